namespace Conclave.Agents.Events;

/// <summary>
/// Appends the events of one session: stamps each with the next <c>event_id</c> and the time,
/// serializes it once, and queues it for storage and fan-out. Only the process that owns the
/// session's active run appends, so ids need no coordination beyond this object.
/// </summary>
public sealed class SessionEventLog
{
    private readonly EventWriter _writer;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _lastEventId;

    /// <summary>Creates the log of a session whose newest stored event is <paramref name="lastEventId"/>.</summary>
    public SessionEventLog(string sessionId, long lastEventId, EventWriter writer, TimeProvider time)
    {
        SessionId = sessionId;
        _lastEventId = lastEventId;
        _writer = writer;
        _time = time;
    }

    /// <summary>The session this log belongs to.</summary>
    public string SessionId { get; }

    /// <summary>The id of the newest event appended.</summary>
    public long LastEventId => Volatile.Read(ref _lastEventId);

    /// <summary>
    /// Appends an event of a run and returns it as stored. <paramref name="beforePublish"/> sees the sealed event
    /// before anyone else can, so that what it records is there when the event reaches a client; so does
    /// <paramref name="keepFirst"/>, which may store it elsewhere first (the session's other events wait meanwhile).
    /// </summary>
    public async ValueTask<SessionEvent> AppendAsync(
        PendingEvent pending, string runId, Action<SessionEvent>? beforePublish = null, Func<SessionEvent, Task>? keepFirst = null)
    {
        // One at a time, so that ids enter the writer's queue in order even when experts emit concurrently.
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            var stored = Seal(pending, SessionId, _lastEventId + 1, runId, _time.GetUtcNow().UtcDateTime);
            beforePublish?.Invoke(stored);
            if (keepFirst is not null)
            {
                await keepFirst(stored);
            }

            await _writer.EnqueueAsync(stored);
            Volatile.Write(ref _lastEventId, stored.EventId);
            return stored;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stamps an event with its place in the session's log and serializes it as clients receive it.</summary>
    public static SessionEvent Seal(PendingEvent pending, string sessionId, long eventId, string runId, DateTime ts) =>
        new(sessionId, eventId, runId, pending.Type, pending.ToUtf8Json(eventId, ts, runId));

    /// <summary>Completes when every event appended so far is stored and published.</summary>
    public Task FlushAsync() => _writer.FlushAsync();
}
