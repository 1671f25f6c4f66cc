using Conclave.Agents.Runs;
using Microsoft.Extensions.Hosting;

namespace Conclave.Cluster.Redis;

/// <summary>
/// Carries out the other instances' control requests on this instance's runs. Started before the bus subscribes, so
/// that no request finds it missing (and apart from the bus, which the runtime's event hub needs before the runs exist).
/// </summary>
internal sealed class RemoteControl(RedisBus bus, RunCoordinator runs, IInstanceNoticeHandler notices) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        bus.ControlHandler = CarryOutAsync;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Another instance's request, carried out if the run is this instance's.</summary>
    private Task<bool> CarryOutAsync(ControlRequest request) => request.Kind switch
    {
        ControlKind.Cancel => runs.CancelAsync(request.SessionId, request.RunId),
        ControlKind.Answer when request is { RequestId: { } id, RequestKind: { } kind } =>
            runs.AnswerAsync(request.SessionId, id, kind, new HumanAnswer(request.Approved, request.Content)),
        ControlKind.Stop when request is { RunId: { } runId, Reason: { } reason } => runs.StopRunAsync(request.SessionId, runId, reason),
        ControlKind.Notice when request.NoticeKind is { } notice => HandleNoticeAsync(new InstanceNotice(notice, request.SessionId)),
        _ => Task.FromResult(false),
    };

    private async Task<bool> HandleNoticeAsync(InstanceNotice notice)
    {
        await notices.HandleAsync(notice);
        return true;
    }
}
