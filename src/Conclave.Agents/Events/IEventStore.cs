namespace Conclave.Agents.Events;

/// <summary>Durable storage of every session's event log.</summary>
public interface IEventStore
{
    /// <summary>Stores a batch of events (of any sessions) at once.</summary>
    Task AppendAsync(IReadOnlyList<SessionEvent> events, CancellationToken cancellationToken = default);

    /// <summary>Reads up to <paramref name="limit"/> stored events of a session with <c>event_id</c> above <paramref name="afterEventId"/>, in order.</summary>
    Task<IReadOnlyList<SessionEvent>> ReadAfterAsync(
        string sessionId, long afterEventId, int limit, CancellationToken cancellationToken = default);

    /// <summary>The newest stored <c>event_id</c> of a session, 0 when it has none.</summary>
    Task<long> GetLastEventIdAsync(string sessionId, CancellationToken cancellationToken = default);
}

/// <summary>Reads that several readers of the event store share.</summary>
public static class EventStoreReads
{
    /// <summary>The session's newest stored event, or null when it has none.</summary>
    public static async Task<SessionEvent?> ReadNewestAsync(this IEventStore store, string sessionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var newest = await store.GetLastEventIdAsync(sessionId, cancellationToken);
        return newest == 0 ? null : (await store.ReadAfterAsync(sessionId, newest - 1, 1, cancellationToken)).SingleOrDefault();
    }
}
