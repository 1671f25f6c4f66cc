using Conclave.Agents.Events;
using Conclave.Agents.Runs;
using Microsoft.Extensions.Options;

namespace Conclave.Server.Chat;

/// <summary>
/// The graceful stop of the chat layer: drain the runs (streaming ones may finish for
/// <c>Conclave:Shutdown:DrainSeconds</c>, then every run still going sends its terminal event), wait until those
/// events are stored and fanned out, then close every socket with 1001. Starts as soon as the application
/// begins stopping, whichever of the server and the hosted services stops first.
/// </summary>
internal sealed class ChatShutdown(
    IHostApplicationLifetime lifetime, RunCoordinator runs, EventWriter writer, ChatConnectionRegistry sockets, IOptions<ShutdownOptions> shutdown)
    : IHostedService
{
    private readonly Lazy<Task> _stopping = new(() => StopAsync(runs, writer, sockets, shutdown.Value.Drain));

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStopping.Register(() => _ = _stopping.Value);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => _stopping.Value.WaitAsync(cancellationToken);

    private static async Task StopAsync(RunCoordinator runs, EventWriter writer, ChatConnectionRegistry sockets, TimeSpan drain)
    {
        await runs.DrainAsync(drain);
        await writer.FlushAsync();
        await sockets.CloseAllAsync();
    }
}
