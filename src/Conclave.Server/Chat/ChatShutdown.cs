using Conclave.Agents.Events;
using Conclave.Agents.Runs;

namespace Conclave.Server.Chat;

/// <summary>
/// The graceful stop of the chat layer: stop the runs (each sends its terminal event), wait until those
/// events are stored and fanned out, then close every socket with 1001. Starts as soon as the application
/// begins stopping, whichever of the server and the hosted services stops first.
/// </summary>
internal sealed class ChatShutdown(
    IHostApplicationLifetime lifetime, RunCoordinator runs, EventWriter writer, ChatConnectionRegistry sockets) : IHostedService
{
    private readonly Lazy<Task> _stopping = new(() => StopAsync(runs, writer, sockets));

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStopping.Register(() => _ = _stopping.Value);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => _stopping.Value.WaitAsync(cancellationToken);

    private static async Task StopAsync(RunCoordinator runs, EventWriter writer, ChatConnectionRegistry sockets)
    {
        await runs.StopAllAsync(CancellationToken.None);
        await writer.FlushAsync();
        await sockets.CloseAllAsync();
    }
}
