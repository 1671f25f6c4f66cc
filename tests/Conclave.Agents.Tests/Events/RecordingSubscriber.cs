using System.Collections.Concurrent;
using Conclave.Agents.Events;

namespace Conclave.Agents.Tests.Events;

/// <summary>A subscriber that records what it is handed, and accepts or refuses each event as told.</summary>
internal sealed class RecordingSubscriber(bool accepts = true) : ISessionEventSubscriber
{
    public ConcurrentQueue<SessionEvent> Received { get; } = new();

    public bool TryDeliver(SessionEvent sessionEvent)
    {
        Received.Enqueue(sessionEvent);
        return accepts;
    }
}
