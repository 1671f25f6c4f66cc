using System.Collections.Concurrent;
using Conclave.Agents.Events;

namespace Conclave.Bench;

/// <summary>
/// An event store that keeps events in memory: only the bench uses it, to measure what storage costs. It keeps the
/// events of the last few sessions written to and forgets older ones, so that a long bench does not measure a heap
/// that grows by every event it relayed (the bench never reads an old session back).
/// </summary>
internal sealed class InMemoryEventStore : IEventStore
{
    private const int SessionsKept = 4;

    private readonly ConcurrentDictionary<string, List<SessionEvent>> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();

    public Task AppendAsync(IReadOnlyList<SessionEvent> events, CancellationToken cancellationToken = default)
    {
        foreach (var e in events)
        {
            var list = _sessions.GetOrAdd(e.SessionId, NewSession);
            lock (list)
            {
                list.Add(e);
            }
        }

        return Task.CompletedTask;
    }

    private List<SessionEvent> NewSession(string sessionId)
    {
        _order.Enqueue(sessionId);
        while (_order.Count > SessionsKept && _order.TryDequeue(out var oldest))
        {
            _sessions.TryRemove(oldest, out _);
        }

        return [];
    }

    public Task<IReadOnlyList<SessionEvent>> ReadAfterAsync(string sessionId, long afterEventId, int limit, CancellationToken cancellationToken = default)
    {
        if (!_sessions.TryGetValue(sessionId, out var list))
        {
            return Task.FromResult<IReadOnlyList<SessionEvent>>([]);
        }

        lock (list)
        {
            return Task.FromResult<IReadOnlyList<SessionEvent>>(list.Where(e => e.EventId > afterEventId).Take(limit).ToList());
        }
    }

    public Task<long> GetLastEventIdAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        if (!_sessions.TryGetValue(sessionId, out var list))
        {
            return Task.FromResult(0L);
        }

        lock (list)
        {
            return Task.FromResult(list.Count == 0 ? 0L : list[^1].EventId);
        }
    }
}
