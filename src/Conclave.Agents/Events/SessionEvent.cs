namespace Conclave.Agents.Events;

/// <summary>
/// An event as stored and fanned out: serialized once to UTF-8 JSON, then written to storage and to every socket as is.
/// </summary>
/// <param name="SessionId">The session whose log holds the event.</param>
/// <param name="EventId">The event's position in that log.</param>
/// <param name="RunId">The run the event belongs to.</param>
/// <param name="Type">The wire name of the event type.</param>
/// <param name="Utf8Json">The whole event as a JSON object (its <c>ts</c> says when it was appended).</param>
public sealed record SessionEvent(string SessionId, long EventId, string? RunId, string Type, ReadOnlyMemory<byte> Utf8Json)
{
    /// <summary>Whether this event ends its run.</summary>
    public bool IsTerminal => Type is "final_answer" or "error";
}
