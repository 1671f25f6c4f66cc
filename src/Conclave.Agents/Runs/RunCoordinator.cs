using Conclave.Agents.Events;
using Conclave.Agents.Models;
using Conclave.Agents.Skills;
using Conclave.Agents.Teams;
using Conclave.Agents.Tools;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.Agents.Runs;

/// <summary>
/// Starts, steers and stops the runs of this process: at most one active run per session, reachable from every socket
/// on that session. A run belongs to no socket: it goes on when its socket closes. Its parts: admission and control
/// (<see cref="ActiveRuns"/>), setup (<see cref="RunSetup"/>) and execution (<see cref="RunExecution"/>).
/// </summary>
public sealed partial class RunCoordinator : IRunControl
{
    private readonly ActiveRuns _active;
    private readonly RunSetup _setup;
    private readonly RunExecution _execution;
    private readonly WaitTimeouts _timeouts;
    private readonly TimeProvider _time;
    private readonly ILogger<RunCoordinator> _logger;

    /// <summary>Creates the coordinator.</summary>
    public RunCoordinator(
        IChatClient model,
        ToolCatalog tools,
        ISkillCatalog skills,
        IExpertCatalog experts,
        IRunStore runs,
        IEventStore events,
        EventWriter writer,
        IOptions<AgentOptions> agent,
        IOptions<ConfirmationOptions> confirmation,
        IOptions<AskHumanOptions> askHuman,
        IOptions<TeamOptions> teams,
        IOptions<ContextOptions> context,
        InstanceIdentity instance,
        TimeProvider time,
        ILogger<RunCoordinator> logger)
    {
        var tokens = new TokenCounter();
        var gate = new ConfirmationGate(logger);
        _active = new ActiveRuns(time);
        _setup = new RunSetup(skills, runs, events, writer, agent.Value, context.Value, tokens, instance, time);
        _execution = new RunExecution(model, tools, experts, runs, _setup, _active, gate, tokens, agent.Value, teams.Value, logger);
        _timeouts = new WaitTimeouts(confirmation.Value.Timeout, askHuman.Value.Timeout);
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// Starts a run for a message, unless the session already has one or the request is invalid. The run is
    /// recorded (with the user's message) before this returns; it goes on in the background.
    /// </summary>
    public async Task<StartRunResult> StartAsync(RunRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_active.Of(request.SessionId) is { } current)
        {
            if (!current.TerminalSent)
            {
                return ActiveRuns.RunInProgress(current);
            }

            // Its terminal event is out; it is only finishing up. A client may already be answering it.
            await current.Completion.WaitAsync(cancellationToken);
        }

        var forced = request.SkillName is null ? null : await _setup.FindSkillAsync(request.TenantId, request.SkillName, cancellationToken);
        if (request.SkillName is not null && forced is null)
        {
            return new StartRunResult(null, ErrorCodes.InvalidMessage, $"There is no skill named '{request.SkillName}'.");
        }

        var run = new Run(request, _timeouts, _time);
        if (_active.TryAdmit(run) is { } refused)
        {
            return refused;
        }

        try
        {
            await _setup.RecordAsync(run, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The asking socket had gone away before the run was recorded: nothing was.
            _active.Remove(run);
            throw;
        }
        catch (RunInProgressException)
        {
            _active.Remove(run);
            return new StartRunResult(null, ErrorCodes.RunInProgress, "The session already has an active run; wait for it to end or cancel it.");
        }
        catch (Exception ex)
        {
            LogRunFailedToStart(ex, run.Id, run.SessionId);
            _active.Remove(run);
            return new StartRunResult(null, ErrorCodes.Internal, ex is SessionGoneException
                ? "The session was deleted."
                : "The run could not be recorded; try again.");
        }

        _ = Task.Run(() => _execution.ExecuteAsync(run, forced), CancellationToken.None);
        return new StartRunResult(run.Id);
    }

    /// <summary>
    /// Takes up a run a previous process left waiting on a person (a single agent's confirmation or question, stored
    /// with its checkpoint): its request is open again, under its own id, and an answer from any socket lets it go on.
    /// False when it cannot go on from there (the session moved on, or the checkpoint cannot be read); it is then to be
    /// ended like any run left open.
    /// </summary>
    public async Task<bool> TryResumeWaitingAsync(OpenRun open, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(open);
        if (open.Wait is not { } wait)
        {
            return false;
        }

        var team = TeamCheckpoint.FromJson(wait.Checkpoint);
        var agent = team is null ? AgentCheckpoint.FromJson(wait.Checkpoint) : null;
        if (team is null && (agent is null || wait.Requests.Count != 1))
        {
            return false;
        }

        var run = Run.Restore(open, _timeouts, _time);
        if (_active.TryAdmit(run) is not null)
        {
            return false;
        }

        if (await _setup.RestoreWaitAsync(run, wait, alone: team is null, cancellationToken) is not { } answers)
        {
            _active.Remove(run);
            return false;
        }

        var waits = wait.Requests.ToDictionary(
            r => r.RequestId, r => new RestoredWait(r, answers[r.RequestId]), StringComparer.Ordinal);
        _ = team is not null
            ? Task.Run(() => _execution.ResumeTeamAsync(run, team, waits), CancellationToken.None)
            : Task.Run(() => _execution.ResumeAsync(run, agent!, waits.Values.Single()), CancellationToken.None);
        return true;
    }

    /// <summary>
    /// The active run of a session, if any, with its open requests. A run whose terminal event is out is not active,
    /// though it may still be finishing up.
    /// </summary>
    public ActiveRun? GetActive(string sessionId) => _active.GetActive(sessionId);

    /// <inheritdoc />
    public Task<ActiveRun?> FindActiveAsync(string sessionId, CancellationToken cancellationToken = default) =>
        Task.FromResult(GetActive(sessionId));

    /// <inheritdoc />
    public Task<IReadOnlyList<RunSummary>> ListActiveAsync(string? tenantId, CancellationToken cancellationToken = default) =>
        Task.FromResult(ListActive(tenantId));

    /// <inheritdoc />
    public Task<bool> StopRunAsync(string sessionId, string runId, StopReason reason, CancellationToken cancellationToken = default) =>
        _active.Of(sessionId)?.Id == runId ? StopRunAsync(runId, reason) : Task.FromResult(false);

    /// <inheritdoc />
    public Task<bool> CancelAsync(string sessionId, string? runId, CancellationToken cancellationToken = default) =>
        Task.FromResult(_active.Cancel(sessionId, runId));

    /// <summary>The active runs of this process, of one tenant or (when null) of all, oldest first.</summary>
    public IReadOnlyList<RunSummary> ListActive(string? tenantId = null) => _active.List(tenantId);

    /// <summary>Stops an active run by its id and waits until it has ended; false when no such run is active.</summary>
    public Task<bool> StopRunAsync(string runId, StopReason reason) => _active.StopRunAsync(runId, reason);

    /// <summary>
    /// Stops every run of a tenant whose key was revoked, and refuses its new runs from now on; waits until its runs
    /// have ended (each with <c>error cancelled</c>).
    /// </summary>
    public Task CloseTenantAsync(string tenantId) => _active.CloseTenantAsync(tenantId);

    /// <inheritdoc />
    public Task<bool> AnswerAsync(string sessionId, string requestId, RequestKind kind, HumanAnswer answer, CancellationToken cancellationToken = default) =>
        Task.FromResult(_active.Answer(sessionId, requestId, kind, answer));

    /// <summary>Stops the session's active run, if any, and waits until it has ended.</summary>
    public Task StopSessionAsync(string sessionId) => _active.StopSessionAsync(sessionId);

    /// <summary>
    /// The server is shutting down: starts no more runs, lets the active ones go on to their own end for up to
    /// <paramref name="drain"/>, and stops those still going then (a run waiting on a person is stopped at once: no one
    /// may answer in time). Waits until every run has ended. Every caller waits for the one drain the first one began.
    /// </summary>
    public Task DrainAsync(TimeSpan drain, CancellationToken cancellationToken = default) => _active.DrainAsync(drain, cancellationToken);

    [LoggerMessage(Level = LogLevel.Error, Message = "Run {RunId} of session {SessionId} could not start")]
    private partial void LogRunFailedToStart(Exception exception, string runId, string sessionId);
}
