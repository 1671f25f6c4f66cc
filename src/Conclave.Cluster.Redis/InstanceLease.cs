using Conclave.Agents.Events;
using Conclave.Agents.Runs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conclave.Cluster.Redis;

/// <summary>
/// This instance's lease on its runs: it records in the database that it is alive every <see cref="RedisClusterOptions.Heartbeat"/>
/// (the first time before the server takes requests), and each time takes over the runs of instances not heard from
/// for <see cref="RedisClusterOptions.OwnerTimeout"/>: their streaming runs end with <c>error internal</c>, their waiting
/// runs wait here. It also gives up the runs other instances took from it while it could not record its heartbeat (it
/// was cut off from the database): they stop here without a word, and their unstored events are dropped, for their ids
/// are the taker's now.
/// </summary>
internal sealed partial class InstanceLease(
    IRunStore runs,
    RunRecovery recovery,
    RunCoordinator coordinator,
    EventWriter writer,
    InstanceIdentity instance,
    RedisClusterOptions options,
    TimeProvider time,
    ILogger<InstanceLease> logger)
    : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await runs.HeartbeatAsync(instance.Id, cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Heartbeat, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await runs.HeartbeatAsync(instance.Id, stoppingToken);
                    await GiveUpTakenRunsAsync(stoppingToken);
                    var taken = await recovery.EndInterruptedRunsAsync(time.GetUtcNow().UtcDateTime - options.OwnerTimeout, stoppingToken);
                    if (taken > 0)
                    {
                        LogTookOver(taken);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogHeartbeatFailed(ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task GiveUpTakenRunsAsync(CancellationToken cancellationToken)
    {
        var mine = coordinator.ListActive().Select(r => r.RunId).ToList();
        foreach (var runId in await runs.FindTakenOverAsync(instance.Id, mine, cancellationToken))
        {
            LogTakenFrom(runId);
            writer.AbandonRun(runId);

            // Not awaited: the run ends once the writer has dropped what it held of it, which this loop must not wait for.
            _ = coordinator.StopRunAsync(runId, StopReason.TakenOver);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId} was taken over by another instance while this one could not reach the database; stopped it here")]
    private partial void LogTakenFrom(string runId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Took over {Count} runs of instances that stopped")]
    private partial void LogTookOver(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recording this instance as alive, or looking for runs of stopped instances, failed; trying again at the next heartbeat")]
    private partial void LogHeartbeatFailed(Exception exception);
}
