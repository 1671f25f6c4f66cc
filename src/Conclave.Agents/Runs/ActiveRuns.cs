using System.Collections.Concurrent;
using Conclave.Agents.Events;

namespace Conclave.Agents.Runs;

/// <summary>
/// The runs of this process, at most one per session: who may start one (admission), and the means to find, steer
/// and stop them (control). A run is listed from its admission until it has ended.
/// </summary>
internal sealed class ActiveRuns(TimeProvider time)
{
    private static readonly TimeSpan DrainPollInterval = TimeSpan.FromMilliseconds(100);

    private readonly ConcurrentDictionary<string, Run> _bySession = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _closedTenants = new(StringComparer.Ordinal);
    private readonly Lock _drainLock = new();
    private volatile bool _draining;
    private Task? _drain;

    /// <summary>The session's run, finishing up or not.</summary>
    public Run? Of(string sessionId) => _bySession.TryGetValue(sessionId, out var run) ? run : null;

    /// <summary>Lists a new run; null when it may go on, else why it may not (and it is not listed).</summary>
    public StartRunResult? TryAdmit(Run run)
    {
        if (!_bySession.TryAdd(run.SessionId, run))
        {
            return Of(run.SessionId) is { } current
                ? RunInProgress(current)
                : new StartRunResult(null, ErrorCodes.RunInProgress, "The session's previous run is still ending; try again.");
        }

        // Checked once the run is listed: a CloseTenantAsync or DrainAsync either sees it there or is seen here.
        if (_draining || _closedTenants.ContainsKey(run.Request.TenantId))
        {
            Remove(run);
            return _draining
                ? new StartRunResult(null, ErrorCodes.Internal, "The server is shutting down; send the message again in a moment.", Retryable: true)
                : new StartRunResult(null, ErrorCodes.Cancelled, "The API key was revoked; no run can start.");
        }

        return null;
    }

    /// <summary>Takes a run off the list; it has ended, or never started.</summary>
    public void Remove(Run run)
    {
        _bySession.TryRemove(new KeyValuePair<string, Run>(run.SessionId, run));
        run.Complete();
    }

    /// <summary>The refusal of a message while the session has a run.</summary>
    public static StartRunResult RunInProgress(Run current) =>
        new(null, ErrorCodes.RunInProgress, $"The session already has an active run ({current.Id}); wait for it to end or cancel it.");

    /// <summary>The session's active run with its open requests; a run whose terminal event is out is not active.</summary>
    public ActiveRun? GetActive(string sessionId) =>
        Of(sessionId) is { TerminalSent: false } run ? new ActiveRun(run.Id, run.Pending.Snapshot()) : null;

    /// <summary>The active runs, of one tenant or (when null) of all, oldest first.</summary>
    public IReadOnlyList<RunSummary> List(string? tenantId) =>
        [.. _bySession.Values
            .Where(r => !r.TerminalSent && (tenantId is null || r.Request.TenantId == tenantId))
            .OrderBy(r => r.StartedAt)
            .Select(r => new RunSummary(r.Id, r.SessionId, r.Request.TenantId, r.StartedAt, r.Pending.Count))];

    /// <summary>Cancels the session's active run (only if it is <paramref name="runId"/>, when given); false when there is none.</summary>
    public bool Cancel(string sessionId, string? runId)
    {
        return Of(sessionId) is { TerminalSent: false } run && (runId is null || run.Id == runId) && run.Stop(StopReason.Cancelled);
    }

    /// <summary>Answers a pending request of the session's run; false when no such request is pending.</summary>
    public bool Answer(string sessionId, string requestId, RequestKind kind, HumanAnswer answer) =>
        Of(sessionId) is { } run && run.Pending.TryAnswer(requestId, kind, answer);

    /// <summary>
    /// Stops an active run by its id and waits until it has ended (as stopped); false when no such run is active, or it
    /// already has its answer.
    /// </summary>
    public async Task<bool> StopRunAsync(string runId, StopReason reason)
    {
        if (_bySession.Values.FirstOrDefault(r => r.Id == runId && !r.TerminalSent) is not { } run || !run.Stop(reason))
        {
            return false;
        }

        await run.Completion;
        return true;
    }

    /// <summary>Stops the session's run, if any, and waits until it has ended.</summary>
    public async Task StopSessionAsync(string sessionId)
    {
        if (Of(sessionId) is { } run)
        {
            run.Stop(StopReason.SessionDeleted);
            await run.Completion;
        }
    }

    /// <summary>
    /// Stops every run of a tenant and refuses its new ones from now on; waits until its runs have ended (a run that
    /// already had its answer ends with it).
    /// </summary>
    public async Task CloseTenantAsync(string tenantId)
    {
        _closedTenants[tenantId] = 0;
        var runs = _bySession.Values.Where(r => r.Request.TenantId == tenantId).ToList();
        foreach (var run in runs)
        {
            run.Stop(StopReason.KeyRevoked);
        }

        await Task.WhenAll(runs.Select(r => r.Completion));
    }

    /// <summary>
    /// Admits no more runs, lets the listed ones go on to their own end for up to <paramref name="drain"/>, then stops
    /// the rest; completes when every run has ended. A run waiting on a person is stopped at once (no one may answer in
    /// time): suspended, open, when its wait is stored, else ended. Every caller waits for the one drain the first one began.
    /// </summary>
    public Task DrainAsync(TimeSpan drain, CancellationToken cancellationToken)
    {
        lock (_drainLock)
        {
            _drain ??= DrainCoreAsync(drain);
        }

        return _drain.WaitAsync(cancellationToken);
    }

    private async Task DrainCoreAsync(TimeSpan drain)
    {
        _draining = true;
        var deadline = time.GetUtcNow() + drain;
        while (!_bySession.IsEmpty && time.GetUtcNow() < deadline)
        {
            foreach (var waiting in _bySession.Values.Where(r => r.Pending.Count > 0))
            {
                waiting.Stop(OnShutdown(waiting));
            }

            await Task.WhenAny(Task.WhenAll(_bySession.Values.Select(r => r.Completion)), Task.Delay(DrainPollInterval, time));
        }

        var runs = _bySession.Values.ToList();
        foreach (var run in runs)
        {
            run.Stop(OnShutdown(run));
        }

        await Task.WhenAll(runs.Select(r => r.Completion));
    }

    // A run whose wait is stored is left open for the next process; any other run ends.
    private static StopReason OnShutdown(Run run) => run.HasDurableWait ? StopReason.Suspended : StopReason.Shutdown;
}
