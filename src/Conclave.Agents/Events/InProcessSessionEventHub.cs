using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace Conclave.Agents.Events;

/// <summary>The event hub of a single process: a copy-on-write subscriber list per session.</summary>
public sealed class InProcessSessionEventHub : ISessionEventHub
{
    private readonly ConcurrentDictionary<string, ImmutableArray<ISessionEventSubscriber>> _subscribers = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public IDisposable Subscribe(string sessionId, ISessionEventSubscriber subscriber)
    {
        _subscribers.AddOrUpdate(sessionId, static (_, s) => [s], static (_, list, s) => list.Add(s), subscriber);
        return new Subscription(this, sessionId, subscriber);
    }

    /// <summary>The sessions that have subscribers now.</summary>
    public IReadOnlyList<string> WatchedSessions => [.. _subscribers.Keys];

    /// <inheritdoc />
    public void Publish(SessionEvent sessionEvent)
    {
        if (!_subscribers.TryGetValue(sessionEvent.SessionId, out var list))
        {
            return;
        }

        foreach (var subscriber in list)
        {
            subscriber.TryDeliver(sessionEvent);
        }
    }

    /// <inheritdoc />
    public void Publish(IReadOnlyList<SessionEvent> events)
    {
        foreach (var sessionEvent in events)
        {
            Publish(sessionEvent);
        }
    }

    private void Unsubscribe(string sessionId, ISessionEventSubscriber subscriber)
    {
        while (_subscribers.TryGetValue(sessionId, out var list))
        {
            var updated = list.Remove(subscriber);
            var done = updated.IsEmpty
                ? _subscribers.TryRemove(new KeyValuePair<string, ImmutableArray<ISessionEventSubscriber>>(sessionId, list))
                : _subscribers.TryUpdate(sessionId, updated, list);
            if (done)
            {
                return;
            }
        }
    }

    private sealed class Subscription(InProcessSessionEventHub hub, string sessionId, ISessionEventSubscriber subscriber) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                hub.Unsubscribe(sessionId, subscriber);
            }
        }
    }
}
