using Microsoft.Extensions.Hosting;

namespace Conclave.Agents.Runs;

/// <summary>
/// On shutdown, stops every run so each sends its terminal event. Registered after the event writer,
/// so it stops first and the writer then stores what the runs sent.
/// </summary>
internal sealed class RunShutdown(RunCoordinator runs) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => runs.StopAllAsync(cancellationToken);
}
