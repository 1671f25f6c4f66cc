namespace Conclave.Cluster.Redis;

/// <summary>Notices to the other instances over Redis's control channel; each answers once it has acted.</summary>
internal sealed class RedisInstanceNotices(RedisBus bus) : IInstanceNotices
{
    public Task BroadcastAsync(InstanceNotice notice, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(notice);
        return bus.BroadcastAsync(new ControlRequest(ControlKind.Notice, notice.Subject, NoticeKind: notice.Kind), cancellationToken);
    }
}
