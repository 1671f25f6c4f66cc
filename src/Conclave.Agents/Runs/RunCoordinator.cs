using System.Collections.Concurrent;
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
/// Starts, steers and stops the runs of this process: at most one active run per session, reachable
/// from every socket on that session. A run belongs to no socket: it goes on when its socket closes.
/// </summary>
public sealed partial class RunCoordinator
{
    private readonly ConcurrentDictionary<string, Run> _active = new(StringComparer.Ordinal);
    private static readonly TimeSpan DrainPollInterval = TimeSpan.FromMilliseconds(100);

    private readonly ConcurrentDictionary<string, byte> _closedTenants = new(StringComparer.Ordinal);
    private volatile bool _draining;
    private Task? _drain;
    private readonly IChatClient _model;
    private readonly ToolCatalog _tools;
    private readonly ISkillCatalog _skills;
    private readonly IExpertCatalog _experts;
    private readonly TeamOptions _teams;
    private readonly ContextOptions _context;
    private readonly TokenCounter _tokens = new();
    private readonly IRunStore _runs;
    private readonly IEventStore _events;
    private readonly EventWriter _writer;
    private readonly AgentOptions _agent;
    private readonly TimeSpan _askTimeout;
    private readonly ConfirmationGate _gate;
    private readonly SemaphoreSlim _setup;
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
        TimeProvider time,
        ILogger<RunCoordinator> logger)
    {
        _model = model;
        _tools = tools;
        _skills = skills;
        _experts = experts;
        _teams = teams.Value;
        _context = context.Value;
        _runs = runs;
        _events = events;
        _writer = writer;
        _agent = agent.Value;
        _setup = new SemaphoreSlim(_agent.MaxConcurrentRunSetup, _agent.MaxConcurrentRunSetup);
        _askTimeout = TimeSpan.FromSeconds(askHuman.Value.TimeoutSeconds);
        _gate = new ConfirmationGate(TimeSpan.FromSeconds(confirmation.Value.TimeoutSeconds), time);
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
        if (_active.TryGetValue(request.SessionId, out var current))
        {
            if (!current.TerminalSent)
            {
                return RunInProgress(current);
            }

            // Its terminal event is out; it is only finishing up. A client may already be answering it.
            await current.Completion.WaitAsync(cancellationToken);
        }

        Skill? forced = null;
        if (request.SkillName is not null)
        {
            var skills = await _skills.ListAsync(request.TenantId, cancellationToken);
            forced = skills.FirstOrDefault(s => string.Equals(s.Name, request.SkillName, StringComparison.Ordinal));
            if (forced is null)
            {
                return new StartRunResult(null, ErrorCodes.InvalidMessage, $"There is no skill named '{request.SkillName}'.");
            }
        }

        var run = new Run(request, _askTimeout, _time);
        if (!_active.TryAdd(request.SessionId, run))
        {
            return _active.TryGetValue(request.SessionId, out current)
                ? RunInProgress(current)
                : new StartRunResult(null, ErrorCodes.RunInProgress, "The session's previous run is still ending; try again.");
        }

        // Checked once the run is listed: a CloseTenantAsync or DrainAsync either sees it there or is seen here.
        if (_closedTenants.ContainsKey(request.TenantId) || _draining)
        {
            _active.TryRemove(new KeyValuePair<string, Run>(run.SessionId, run));
            run.Complete();
            return _draining
                ? new StartRunResult(null, ErrorCodes.Internal, "The server is shutting down; send the message again in a moment.", Retryable: true)
                : new StartRunResult(null, ErrorCodes.Cancelled, "The API key was revoked; no run can start.");
        }

        try
        {
            await _setup.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The asking socket went away while the run waited for its turn: nothing was recorded.
            _active.TryRemove(new KeyValuePair<string, Run>(run.SessionId, run));
            run.Complete();
            throw;
        }

        try
        {
            var lastEventId = await _events.GetLastEventIdAsync(run.SessionId, CancellationToken.None);
            run.Attach(new SessionEventLog(run.SessionId, lastEventId, _writer, _time));
            await _runs.BeginRunAsync(
                new RunRecord(run.Id, run.SessionId, request.TenantId, request.MessageId, _time.GetUtcNow().UtcDateTime),
                request.Content,
                CancellationToken.None);
        }
        catch (Exception ex)
        {
            LogRunFailedToStart(ex, run.Id, run.SessionId);
            _active.TryRemove(new KeyValuePair<string, Run>(run.SessionId, run));
            run.Complete();
            return new StartRunResult(null, ErrorCodes.Internal, ex is SessionGoneException
                ? "The session was deleted."
                : "The run could not be recorded; try again.");
        }
        finally
        {
            _setup.Release();
        }

        _ = Task.Run(() => ExecuteAsync(run, forced), CancellationToken.None);
        return new StartRunResult(run.Id);
    }

    /// <summary>
    /// The active run of a session, if any, with its open requests. A run whose terminal event is out is not active,
    /// though it may still be finishing up.
    /// </summary>
    public ActiveRun? GetActive(string sessionId) =>
        _active.TryGetValue(sessionId, out var run) && !run.TerminalSent ? new ActiveRun(run.Id, run.Pending.Snapshot()) : null;

    /// <summary>Cancels the session's active run (only if it is <paramref name="runId"/>, when given); false when there is none.</summary>
    public bool Cancel(string sessionId, string? runId = null)
    {
        if (!_active.TryGetValue(sessionId, out var run) || run.TerminalSent || (runId is not null && run.Id != runId))
        {
            return false;
        }

        run.Stop(StopReason.Cancelled);
        return true;
    }

    /// <summary>The active runs of this process, of one tenant or (when null) of all, oldest first.</summary>
    public IReadOnlyList<RunSummary> ListActive(string? tenantId = null) =>
        [.. _active.Values
            .Where(r => !r.TerminalSent && (tenantId is null || r.Request.TenantId == tenantId))
            .OrderBy(r => r.StartedAt)
            .Select(r => new RunSummary(r.Id, r.SessionId, r.Request.TenantId, r.StartedAt, r.Pending.Count))];

    /// <summary>Stops an active run by its id and waits until it has ended; false when no such run is active.</summary>
    public async Task<bool> StopRunAsync(string runId, StopReason reason)
    {
        var run = _active.Values.FirstOrDefault(r => r.Id == runId && !r.TerminalSent);
        if (run is null)
        {
            return false;
        }

        run.Stop(reason);
        await run.Completion;
        return true;
    }

    /// <summary>
    /// Stops every run of a tenant whose key was revoked, and refuses its new runs from now on; waits until its runs
    /// have ended (each with <c>error cancelled</c>).
    /// </summary>
    public async Task CloseTenantAsync(string tenantId)
    {
        _closedTenants[tenantId] = 0;
        var runs = _active.Values.Where(r => r.Request.TenantId == tenantId).ToList();
        foreach (var run in runs)
        {
            run.Stop(StopReason.KeyRevoked);
        }

        await Task.WhenAll(runs.Select(r => r.Completion));
    }

    /// <summary>Answers a pending request of the session's active run; false when no such request is pending.</summary>
    public bool Answer(string sessionId, string requestId, RequestKind kind, HumanAnswer answer) =>
        _active.TryGetValue(sessionId, out var run) && run.Pending.TryAnswer(requestId, kind, answer);

    /// <summary>Stops the session's active run, if any, and waits until it has ended.</summary>
    public async Task StopSessionAsync(string sessionId)
    {
        if (_active.TryGetValue(sessionId, out var run))
        {
            run.Stop(StopReason.SessionDeleted);
            await run.Completion;
        }
    }

    /// <summary>
    /// The server is shutting down: starts no more runs, lets the active ones go on to their own end for up to
    /// <paramref name="drain"/>, and stops those still going then (a run waiting on a person is stopped at once: no one
    /// may answer in time). Waits until every run has ended. Every caller waits for the one drain the first one began.
    /// </summary>
    public Task DrainAsync(TimeSpan drain, CancellationToken cancellationToken = default)
    {
        lock (_active)
        {
            _drain ??= DrainCoreAsync(drain);
        }

        return _drain.WaitAsync(cancellationToken);
    }

    private async Task DrainCoreAsync(TimeSpan drain)
    {
        _draining = true;
        var deadline = _time.GetUtcNow() + drain;
        while (!_active.IsEmpty && _time.GetUtcNow() < deadline)
        {
            foreach (var waiting in _active.Values.Where(r => r.Pending.Count > 0))
            {
                waiting.Stop(StopReason.Shutdown);
            }

            var ending = Task.WhenAll(_active.Values.Select(r => r.Completion));
            await Task.WhenAny(ending, Task.Delay(DrainPollInterval, _time));
        }

        var runs = _active.Values.ToList();
        foreach (var run in runs)
        {
            run.Stop(StopReason.Shutdown);
        }

        await Task.WhenAll(runs.Select(r => r.Completion));
    }

    private static StartRunResult RunInProgress(Run current) =>
        new(null, ErrorCodes.RunInProgress, $"The session already has an active run ({current.Id}); wait for it to end or cancel it.");

    private async Task ExecuteAsync(Run run, Skill? forced)
    {
        var status = RunStatus.Failed;
        try
        {
            var answer = await AnswerAsync(run, forced, run.StopToken);
            await _runs.AppendMessageAsync(run.SessionId, run.Id, new HistoryMessage(HistoryMessage.Assistant, answer.Content), CancellationToken.None);
            await run.EndAsync(new FinalAnswerEvent(answer.Content, run.Usage, answer.FinishReason));
            status = RunStatus.Completed;
        }
        catch (Exception ex)
        {
            status = await EndWithErrorAsync(run, ex);
        }
        finally
        {
            run.MarkTerminalSent();
            await run.FlushAsync();

            // Recorded as ended only once the terminal event is stored: a crash in between leaves the run open,
            // and recovery then sees the stored terminal event and does not add another.
            try
            {
                await _runs.EndRunAsync(run.Id, status, CancellationToken.None);
            }
            catch (Exception storeFailure)
            {
                LogRunFailed(storeFailure, run.Id, "store");
            }

            _active.TryRemove(new KeyValuePair<string, Run>(run.SessionId, run));
            run.Complete();
        }
    }

    private async Task<AgentAnswer> AnswerAsync(Run run, Skill? forced, CancellationToken cancellationToken)
    {
        var request = run.Request;
        var (match, teamGoal, messages) = await PrepareAsync(run, forced, cancellationToken);
        if (match is not null)
        {
            await run.EmitAsync(new SkillMatchEvent(match.Skill.Name, match.Score, match.Matched));
        }

        var workspace = new Workspace(Path.Combine(_agent.WorkspacesPath, run.SessionId));
        if (teamGoal is not null)
        {
            var synthesis = await ConveneTeamAsync(run, teamGoal, match?.Skill, workspace, cancellationToken);
            return new AgentAnswer(synthesis, ChatFinishReason.Stop.Value);
        }

        var tools = _tools.Select(match?.Skill.Tools);
        var toolContext = new ToolContext(workspace, run.HumanFor(null), (goal, ct) => ConveneTeamAsync(run, goal, match?.Skill, workspace, ct));
        var loop = new AgentLoop(_model, _runs, _gate, _tokens, _agent.MaxSteps);
        return await loop.RunAsync(
            AgentOutput.ForRun(run), messages, tools, toolContext, cancellationToken, new ChatOptions { ModelId = match?.Skill.Model });
    }

    /// <summary>
    /// A run's start-up work, taking its turn among the starts (<see cref="AgentOptions.MaxConcurrentRunSetup"/>): the
    /// skill that matches, then the team's goal for a team run, or else the prompt (system prompt, history that fits,
    /// the message).
    /// </summary>
    private async Task<(SkillMatch? Match, string? TeamGoal, List<ChatMessage> Messages)> PrepareAsync(
        Run run, Skill? forced, CancellationToken cancellationToken)
    {
        var request = run.Request;
        await _setup.WaitAsync(cancellationToken);
        try
        {
            var match = forced is not null
                ? new SkillMatch(forced, 1.0, [])
                : SkillMatcher.Match(request.Content, await _skills.ListAsync(request.TenantId, cancellationToken));
            if (TeamGoal(request, match?.Skill) is { } goal)
            {
                return (match, goal, []);
            }

            var messages = new List<ChatMessage> { new(ChatRole.System, match?.Skill.Instructions ?? _agent.SystemPrompt) };
            foreach (var message in await _runs.LoadHistoryAsync(run.SessionId, _agent.MaxHistoryMessages + 1, cancellationToken))
            {
                messages.Add(new ChatMessage(message.Role == HistoryMessage.User ? ChatRole.User : ChatRole.Assistant, message.Content));
            }

            // The run's own user message is already stored; make sure it is the last one the model sees.
            if (messages[^1].Role != ChatRole.User || messages[^1].Text != request.Content)
            {
                messages.Add(new ChatMessage(ChatRole.User, request.Content));
            }

            ContextWindow.Fit(messages, _context.MaxContextTokens, _tokens);
            return (match, null, messages);
        }
        finally
        {
            _setup.Release();
        }
    }

    /// <summary>The goal of a team run, or null for a single-agent run.</summary>
    private static string? TeamGoal(RunRequest request, Skill? skill)
    {
        const string prefix = "/team ";
        var content = request.Content.Trim();
        var prefixed = content.StartsWith(prefix, StringComparison.OrdinalIgnoreCase);
        var goal = prefixed ? content[prefix.Length..].Trim() : content;
        return request.Mode switch
        {
            "single" => null,
            "team" => goal,
            _ when prefixed || string.Equals(skill?.Mode, "team", StringComparison.Ordinal) => goal,
            _ => null,
        };
    }

    private async Task<string> ConveneTeamAsync(Run run, string goal, Skill? skill, Workspace workspace, CancellationToken cancellationToken)
    {
        var experts = BuiltInExperts.All.Concat(await _experts.ListAsync(run.Request.TenantId, cancellationToken)).ToList();
        var orchestrator = new TeamOrchestrator(_model, _runs, _gate, _tools, _teams, _tokens, _agent.MaxSteps);
        return await orchestrator.RunAsync(run, new TeamBrief(goal, experts, skill?.Instructions, skill?.Tools, workspace), cancellationToken);
    }

    private async Task<RunStatus> EndWithErrorAsync(Run run, Exception ex)
    {
        var (code, message, retryable, status) = ex switch
        {
            OperationCanceledException when run.StopReason == StopReason.Shutdown =>
                (ErrorCodes.Internal, "The server shut down during the run; send the message again.", true, RunStatus.Failed),
            OperationCanceledException when run.StopReason == StopReason.KeyRevoked =>
                (ErrorCodes.Cancelled, "The run was stopped: its API key was revoked.", false, RunStatus.Cancelled),
            OperationCanceledException when run.StopReason == StopReason.CancelledByOperator =>
                (ErrorCodes.Cancelled, "The run was cancelled by an administrator.", false, RunStatus.Cancelled),
            OperationCanceledException when run.StopReason is not null =>
                (ErrorCodes.Cancelled, "The run was cancelled.", false, RunStatus.Cancelled),
            AskHumanTimeoutException => (ErrorCodes.Timeout, ex.Message, false, RunStatus.Failed),
            ModelException => (ErrorCodes.LlmError, ex.Message, true, RunStatus.Failed),
            ToolStepLimitException => (ErrorCodes.ToolError, ex.Message, false, RunStatus.Failed),
            TeamFailedException team => (team.Code, ex.Message, team.Code is ErrorCodes.LlmError or ErrorCodes.Timeout, RunStatus.Failed),
            _ => (ErrorCodes.Internal, "The run failed unexpectedly.", false, RunStatus.Failed),
        };
        if (code is ErrorCodes.Internal or ErrorCodes.LlmError)
        {
            LogRunFailed(ex, run.Id, code);
        }

        await run.EndAsync(new ErrorEvent(code, message, retryable) { Usage = run.Usage });
        return status;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Run {RunId} of session {SessionId} could not start")]
    private partial void LogRunFailedToStart(Exception exception, string runId, string sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId} failed ({Code})")]
    private partial void LogRunFailed(Exception exception, string runId, string code);
}
