namespace Conclave.Agents.Events;

/// <summary>Receives the stored events of one session as they are published.</summary>
public interface ISessionEventSubscriber
{
    /// <summary>
    /// Hands over one event without waiting. Returns false when the subscriber cannot keep up;
    /// the subscriber then drops itself (a client resumes later from its last event id).
    /// </summary>
    bool TryDeliver(SessionEvent sessionEvent);
}

/// <summary>
/// Fans out each session's events, once stored, to everyone watching that session.
/// In one process this is in memory; across processes it is carried by a message bus.
/// </summary>
public interface ISessionEventHub
{
    /// <summary>Starts delivering the session's events to the subscriber until the returned handle is disposed.</summary>
    IDisposable Subscribe(string sessionId, ISessionEventSubscriber subscriber);

    /// <summary>Delivers a stored event to the session's subscribers.</summary>
    void Publish(SessionEvent sessionEvent);

    /// <summary>
    /// Delivers stored events, of any sessions, to their subscribers in the order given; a hub that carries events
    /// between processes sends them as one message.
    /// </summary>
    void Publish(IReadOnlyList<SessionEvent> events);
}
