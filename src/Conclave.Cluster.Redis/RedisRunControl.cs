using System.Text;
using Conclave.Agents.Events;
using Conclave.Agents.Runs;

namespace Conclave.Cluster.Redis;

/// <summary>
/// Steers runs wherever they execute: a run of this instance in memory, any other through the instance that runs it
/// (asked over Redis). A run's open requests are read from the store, where every wait is kept before it goes out.
/// </summary>
internal sealed class RedisRunControl : IRunControl
{
    private readonly RunCoordinator _local;
    private readonly RedisBus _bus;
    private readonly IRunStore _runs;

    public RedisRunControl(RunCoordinator local, RedisBus bus, IRunStore runs)
    {
        _local = local;
        _bus = bus;
        _runs = runs;
    }

    public async Task<bool> CancelAsync(string sessionId, string? runId, CancellationToken cancellationToken = default) =>
        await _local.CancelAsync(sessionId, runId, cancellationToken)
        || await _bus.RequestAsync(new ControlRequest(ControlKind.Cancel, sessionId, RunId: runId), cancellationToken);

    public async Task<bool> AnswerAsync(
        string sessionId, string requestId, RequestKind kind, HumanAnswer answer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(answer);
        return await _local.AnswerAsync(sessionId, requestId, kind, answer, cancellationToken)
            || await _bus.RequestAsync(
                new ControlRequest(ControlKind.Answer, sessionId, RequestId: requestId, RequestKind: kind, Approved: answer.Approved, Content: answer.Content),
                cancellationToken);
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

        var pending = open.Wait?.Requests
            .Select(r => new SessionEvent(sessionId, r.AnnouncementEventId, open.RunId, AnnouncementType(r.Kind), Encoding.UTF8.GetBytes(r.Announcement)))
            .ToList() ?? [];
        return new ActiveRun(open.RunId, pending);
    }

    private static string AnnouncementType(RequestKind kind) => kind == RequestKind.Confirmation ? "confirmation_request" : "ask_human";
}
