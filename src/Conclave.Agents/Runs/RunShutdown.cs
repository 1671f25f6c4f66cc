using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Conclave.Agents.Runs;

/// <summary>
/// On shutdown, lets streaming runs finish for up to <see cref="ShutdownOptions.DrainSeconds"/>, then stops the rest
/// so each sends its terminal event. Registered after the event writer, so it stops first and the writer then stores
/// what the runs sent.
/// </summary>
internal sealed class RunShutdown(RunCoordinator runs, IOptions<ShutdownOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) =>
        runs.DrainAsync(options.Value.Drain, cancellationToken);
}
