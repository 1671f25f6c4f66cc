using Conclave.Agents.Events;

namespace Conclave.Cluster.Redis;

/// <summary>
/// The event hub of one instance among several: its own sockets get its events in memory, as in one process, and every
/// event also goes to the other instances through Redis, whose sockets get them from there.
/// </summary>
internal sealed class RedisSessionEventHub : ISessionEventHub
{
    private readonly InProcessSessionEventHub _local = new();
    private readonly RedisBus _bus;

    public RedisSessionEventHub(RedisBus bus)
    {
        _bus = bus;
        bus.RemoteEvent += _local.Publish;
    }

    public IDisposable Subscribe(string sessionId, ISessionEventSubscriber subscriber) => _local.Subscribe(sessionId, subscriber);

    public void Publish(SessionEvent sessionEvent)
    {
        _local.Publish(sessionEvent);
        _bus.Publish(sessionEvent);
    }
}
