using Conclave.Agents.Events;
using Conclave.Agents.Runs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conclave.Cluster.Redis;

/// <summary>
/// This instance's lease on its runs: it records in the database that it is alive every <see cref="RedisClusterOptions.Heartbeat"/>
/// (the first time before the server takes requests), and each time takes over the runs of instances not heard from
/// for <see cref="RedisClusterOptions.OwnerTimeout"/>: their streaming runs end with <c>error internal</c>, their waiting
/// runs wait here. An instance that cannot record its heartbeat stops its own runs one heartbeat before its lease could
/// lapse (it fences itself: they stop without a word, and their unstored events are dropped), so that no run ever goes
/// on in two places. Once it reaches the database again, it takes back those no other instance took meanwhile, as any
/// instance takes over a run left open; and it gives up any run it still runs that another took (a clock that jumped,
/// a heartbeat that landed late).
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
    // Runs this instance stopped because it lost the database, by id: each task ends once the run has stopped and its
    // queued events are dropped; then it may be taken back.
    private readonly Dictionary<string, Task> _fenced = new(StringComparer.Ordinal);
    private DateTimeOffset _lastHeartbeat;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await RecordHeartbeatAsync(cancellationToken);
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
                    // A database that does not answer fails the heartbeat within one period, so that fencing is in time.
                    using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                    attempt.CancelAfter(options.Heartbeat);
                    await RecordHeartbeatAsync(attempt.Token);
                    await GiveUpTakenRunsAsync(stoppingToken);
                    await TakeBackFencedRunsAsync(stoppingToken);
                    var taken = await recovery.EndInterruptedRunsAsync(time.GetUtcNow().UtcDateTime - options.OwnerTimeout, stoppingToken);
                    if (taken > 0)
                    {
                        LogTookOver(taken);
                    }
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    LogHeartbeatFailed(ex);
                    FenceIfLeaseRunsOut();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RecordHeartbeatAsync(CancellationToken cancellationToken)
    {
        // The time before the write: the lease runs from no later than what the database records.
        var now = time.GetUtcNow();
        await runs.HeartbeatAsync(instance.Id, cancellationToken);
        _lastHeartbeat = now;
    }

    /// <summary>
    /// Stops every run here once the last recorded heartbeat is older than the lease less one heartbeat: others may
    /// take them over from the lease's end on.
    /// </summary>
    private void FenceIfLeaseRunsOut()
    {
        var unheardFor = time.GetUtcNow() - _lastHeartbeat;
        if (unheardFor < options.OwnerTimeout - options.Heartbeat)
        {
            return;
        }

        var active = coordinator.ListActive().Where(r => !_fenced.ContainsKey(r.RunId)).ToList();
        if (active.Count == 0)
        {
            return;
        }

        LogFenced(active.Count, (int)unheardFor.TotalSeconds);
        foreach (var run in active)
        {
            _fenced[run.RunId] = GiveUp(run.RunId);
        }
    }

    private async Task GiveUpTakenRunsAsync(CancellationToken cancellationToken)
    {
        var mine = coordinator.ListActive().Select(r => r.RunId).Where(id => !_fenced.ContainsKey(id)).ToList();
        foreach (var runId in await runs.FindTakenOverAsync(instance.Id, mine, cancellationToken))
        {
            LogTakenFrom(runId);
            _ = GiveUp(runId);
        }
    }

    private async Task TakeBackFencedRunsAsync(CancellationToken cancellationToken)
    {
        var stopped = _fenced.Where(f => f.Value.IsCompleted).Select(f => f.Key).ToList();
        if (stopped.Count == 0)
        {
            return;
        }

        var takenBack = await recovery.TakeBackAsync(stopped, cancellationToken);
        foreach (var runId in stopped)
        {
            _fenced.Remove(runId);
        }

        if (takenBack > 0)
        {
            LogTookBack(takenBack);
        }
    }

    /// <summary>
    /// Stops the run here without a word and drops its unstored events (their ids are, or may become, another
    /// instance's); the task ends once that is done and the writer takes the run's events again.
    /// </summary>
    private Task GiveUp(string runId)
    {
        writer.AbandonRun(runId);

        // Not awaited by the heartbeat: the run ends once the writer has dropped what it held of it, which may wait on
        // the database.
        return Task.Run(async () =>
        {
            await coordinator.StopRunAsync(runId, StopReason.TakenOver);
            await writer.ForgetAbandonedAsync(runId);
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopped {Count} runs here: this instance could not record its heartbeat for {Seconds} s, and another may take them over; they are taken back if none did once the database answers")]
    private partial void LogFenced(int count, int seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Took back {Count} runs that this instance stopped while it could not reach the database")]
    private partial void LogTookBack(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId} was taken over by another instance; stopped it here")]
    private partial void LogTakenFrom(string runId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Took over {Count} runs of instances that stopped")]
    private partial void LogTookOver(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recording this instance as alive, or looking for runs of stopped instances, failed; trying again at the next heartbeat")]
    private partial void LogHeartbeatFailed(Exception exception);
}
