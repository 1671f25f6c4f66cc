using System.Collections.Concurrent;
using Conclave.Agents.Events;

namespace Conclave.Bench;

/// <summary>An event store that keeps events in memory: only the bench uses it, to measure what storage costs.</summary>
internal sealed class InMemoryEventStore : IEventStore
{
    private readonly ConcurrentDictionary<string, List<SessionEvent>> _sessions = new(StringComparer.Ordinal);

    public Task AppendAsync(IReadOnlyList<SessionEvent> events, CancellationToken cancellationToken = default)
    {
        foreach (var e in events)
        {
            var list = _sessions.GetOrAdd(e.SessionId, _ => []);
            lock (list)
            {
                list.Add(e);
            }
        }

        return Task.CompletedTask;
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
