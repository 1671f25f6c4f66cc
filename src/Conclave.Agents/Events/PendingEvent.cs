namespace Conclave.Agents.Events;

/// <summary>
/// An event on its way into a session's log: any <see cref="AgentEvent"/>, or one of the two deltas a model streams
/// (<c>token</c>, <c>thinking</c>) as its text alone, which makes no event object on its way to JSON (a model streams
/// thousands of them a second).
/// </summary>
public readonly struct PendingEvent
{
    private readonly AgentEvent? _event;
    private readonly string? _delta;

    private PendingEvent(AgentEvent? agentEvent, string type, string? delta)
    {
        _event = agentEvent;
        Type = type;
        _delta = delta;
    }

    /// <summary>The wire name of the event's type.</summary>
    public string Type { get; }

    /// <summary>A delta of the answer, as a <see cref="TokenEvent"/> of this text would be written.</summary>
    public static PendingEvent Token(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new(null, "token", text);
    }

    /// <summary>A delta of reasoning, as a <see cref="ThinkingEvent"/> of this text would be written.</summary>
    public static PendingEvent Thinking(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new(null, "thinking", text);
    }

    /// <summary>Any event.</summary>
    public static implicit operator PendingEvent(AgentEvent agentEvent)
    {
        ArgumentNullException.ThrowIfNull(agentEvent);
        return new PendingEvent(agentEvent, agentEvent.Type, null);
    }

    /// <summary>The event's JSON object, stamped with its place in the log, its time and its run.</summary>
    internal byte[] ToUtf8Json(long eventId, DateTime ts, string? runId)
    {
        if (Type is null)
        {
            throw new InvalidOperationException("A default PendingEvent is no event.");
        }

        if (_event is null)
        {
            return DeltaJson.Write(Type, eventId, ts, runId, _delta!);
        }

        _event.EventId = eventId;
        _event.Ts = ts;
        _event.RunId = runId;
        return DeltaJson.TryWrite(_event) ?? System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(_event, ProtocolJsonContext.Wire.AgentEvent);
    }
}
