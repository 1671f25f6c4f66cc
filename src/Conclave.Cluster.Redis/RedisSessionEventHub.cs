using Conclave.Agents.Events;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Conclave.Cluster.Redis;

/// <summary>
/// The event hub of one instance among several: its own sockets get its events in memory, as in one process, and every
/// event also goes to the other instances through Redis, whose sockets get them from there. Pub/sub delivers at most
/// once: what is lost on the way (Redis restarted, or the sending instance died between storing and sending) is read
/// from the store by a reader whose next event skips ids. When the connection to Redis is back, each watched session's
/// newest stored event is handed to its readers again, so that a run that ended meanwhile shows its end.
/// </summary>
internal sealed partial class RedisSessionEventHub : ISessionEventHub
{
    // Again once after the reconnection, for what was published before the subscription was renewed.
    private static readonly TimeSpan SecondLook = TimeSpan.FromSeconds(1);

    private readonly InProcessSessionEventHub _local = new();
    private readonly RedisBus _bus;
    private readonly IEventStore _store;
    private readonly ILogger<RedisSessionEventHub> _logger;

    public RedisSessionEventHub(RedisBus bus, IEventStore store, ILogger<RedisSessionEventHub> logger)
    {
        _bus = bus;
        _store = store;
        _logger = logger;
        bus.RemoteEvent += _local.Publish;
        bus.Reconnected += () => _ = CatchUpAsync();
    }

    public IDisposable Subscribe(string sessionId, ISessionEventSubscriber subscriber) => _local.Subscribe(sessionId, subscriber);

    public void Publish(SessionEvent sessionEvent) => Publish([sessionEvent]);

    public void Publish(IReadOnlyList<SessionEvent> events)
    {
        if (events.Count == 0)
        {
            return;
        }

        _local.Publish(events);
        try
        {
            _bus.Publish(events);
        }
        catch (RedisException ex)
        {
            // Redis is away: the other instances' sockets read these events from the store once it is back.
            LogPublishFailed(ex, events.Count, events[0].SessionId, events[0].EventId);
        }
    }

    private async Task CatchUpAsync()
    {
        try
        {
            await RepublishNewestAsync();
            await Task.Delay(SecondLook);
            await RepublishNewestAsync();
        }
        catch (Exception ex)
        {
            LogCatchUpFailed(ex);
        }
    }

    private async Task RepublishNewestAsync()
    {
        foreach (var sessionId in _local.WatchedSessions)
        {
            if (await _store.ReadNewestAsync(sessionId) is { } newest)
            {
                _local.Publish(newest);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Sending {Count} events (the first {EventId} of session {SessionId}) to the other instances failed; they read them from the store")]
    private partial void LogPublishFailed(Exception exception, int count, string sessionId, long eventId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Catching the sockets up after Redis came back failed; they catch up at their session's next event")]
    private partial void LogCatchUpFailed(Exception exception);
}
