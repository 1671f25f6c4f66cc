namespace Conclave.Cluster.Redis;

/// <summary>Something every instance must act on: a revoked key, a deleted session.</summary>
/// <param name="Kind">What happened (<see cref="InstanceNotice.KeyRevoked"/>, <see cref="InstanceNotice.SessionDeleted"/>).</param>
/// <param name="Subject">What it happened to: the key's id, the session's id.</param>
public sealed record InstanceNotice(string Kind, string Subject)
{
    /// <summary>A key was revoked: its cached identity goes, its sockets close, its tenant's runs stop.</summary>
    public const string KeyRevoked = "key_revoked";

    /// <summary>A session was deleted: its run stops, its sockets close, its events are stored before they go.</summary>
    public const string SessionDeleted = "session_deleted";
}

/// <summary>Carries out a notice on this instance (the host's part: its sockets, its key cache, its runs).</summary>
public interface IInstanceNoticeHandler
{
    /// <summary>Acts on a notice of another instance; completes when done.</summary>
    Task HandleAsync(InstanceNotice notice);
}

/// <summary>Tells the other instances of the service, and waits until each has acted; one instance alone has none to tell.</summary>
public interface IInstanceNotices
{
    /// <summary>
    /// Sends the notice to every other instance and completes when each has handled it, or after the control timeout
    /// (an instance that does not answer is dead or cut off, and its runs are taken over).
    /// </summary>
    Task BroadcastAsync(InstanceNotice notice, CancellationToken cancellationToken = default);
}

/// <summary>One instance alone: there is no one else to tell.</summary>
public sealed class SingleInstanceNotices : IInstanceNotices
{
    public Task BroadcastAsync(InstanceNotice notice, CancellationToken cancellationToken = default) => Task.CompletedTask;
}
