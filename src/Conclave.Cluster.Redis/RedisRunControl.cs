using Conclave.Agents.Runs;

namespace Conclave.Cluster.Redis;

/// <summary>
/// Steers runs wherever they execute: a run of this instance in memory, any other through the instance that runs it
/// (asked over Redis). A run's open requests are read from the store, where every wait is kept before it goes out. An
/// answer to a request that is still open but that no instance holds (its instance died, and no other has taken the
/// run over yet) waits for the takeover, at most the owner timeout and two heartbeats, and then lands.
/// </summary>
internal sealed class RedisRunControl : IRunControl
{
    private static readonly TimeSpan TakeoverPoll = TimeSpan.FromMilliseconds(250);

    private readonly RunCoordinator _local;
    private readonly RedisBus _bus;
    private readonly IRunStore _runs;
    private readonly TimeSpan _takeover;
    private readonly TimeProvider _time;

    public RedisRunControl(RunCoordinator local, RedisBus bus, IRunStore runs, RedisClusterOptions options, TimeProvider time)
    {
        _local = local;
        _bus = bus;
        _runs = runs;
        _takeover = options.OwnerTimeout + (2 * options.Heartbeat);
        _time = time;
    }

    public async Task<bool> CancelAsync(string sessionId, string? runId, CancellationToken cancellationToken = default) =>
        await _local.CancelAsync(sessionId, runId, cancellationToken)
        || await _bus.RequestAsync(new ControlRequest(ControlKind.Cancel, sessionId, RunId: runId), cancellationToken);

    public async Task<bool> AnswerAsync(
        string sessionId, string requestId, RequestKind kind, HumanAnswer answer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var request = new ControlRequest(ControlKind.Answer, sessionId, RequestId: requestId, RequestKind: kind, Approved: answer.Approved, Content: answer.Content);
        var deadline = _time.GetUtcNow() + _takeover;
        while (true)
        {
            if (await _local.AnswerAsync(sessionId, requestId, kind, answer, cancellationToken) || await _bus.RequestAsync(request, cancellationToken))
            {
                return true;
            }

            var open = await _runs.FindOpenRunAsync(sessionId, cancellationToken);
            if (open?.Wait?.Requests.Any(r => r.RequestId == requestId) != true || _time.GetUtcNow() > deadline)
            {
                return false;
            }

            await Task.Delay(TakeoverPoll, _time, cancellationToken);
        }
    }

    public async Task<ActiveRun?> FindActiveAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        if (await _local.FindActiveAsync(sessionId, cancellationToken) is { } mine)
        {
            return mine;
        }

        if (await _runs.FindOpenRunAsync(sessionId, cancellationToken) is not { } open)
        {
            return null;
        }

        var pending = open.Wait?.Requests.Select(r => r.AnnouncementEvent(sessionId, open.RunId)).ToList() ?? [];
        return new ActiveRun(open.RunId, pending);
    }

    public async Task<IReadOnlyList<RunSummary>> ListActiveAsync(string? tenantId, CancellationToken cancellationToken = default) =>
        [.. (await _runs.ListOpenRunsAsync(tenantId, cancellationToken))
            .Select(r => new RunSummary(r.RunId, r.SessionId, r.TenantId, r.StartedAt, r.Wait?.Requests.Count ?? 0))];

    public async Task<bool> StopRunAsync(string sessionId, string runId, StopReason reason, CancellationToken cancellationToken = default) =>
        await _local.StopRunAsync(sessionId, runId, reason, cancellationToken)
        || await _bus.RequestAsync(new ControlRequest(ControlKind.Stop, sessionId, RunId: runId, Reason: reason), cancellationToken);
}
