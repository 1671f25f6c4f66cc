using System.Diagnostics;
using Conclave.Agents.Events;
using Conclave.Agents.Models;
using Conclave.Agents.Skills;
using Conclave.Agents.Teams;
using Conclave.Agents.Tools;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Conclave.Agents.Runs;

/// <summary>
/// Runs an admitted, recorded run to its end: the agent loop or the team, then exactly one terminal event, stored
/// before the run is recorded as ended and taken off the list of active runs.
/// </summary>
internal sealed partial class RunExecution(
    IChatClient model,
    ToolCatalog tools,
    IExpertCatalog experts,
    IRunStore runs,
    RunSetup setup,
    ActiveRuns active,
    ConfirmationGate gate,
    TokenCounter tokens,
    AgentOptions agent,
    TeamOptions teams,
    ILogger logger)
{
    private readonly ILogger _logger = logger;

    // The model runs are logged with: the provider's name and its default model (a skill or an expert may ask for another).
    private readonly string _modelName = model.GetService<ChatClientMetadata>() is { } metadata
        ? $"{metadata.ProviderName}/{metadata.DefaultModelId}"
        : model.GetType().Name;

    /// <summary>Runs <paramref name="run"/> until it ends.</summary>
    public Task ExecuteAsync(Run run, Skill? forced) => RunToEndAsync(run, resumed: false, ct => AnswerAsync(run, forced, ct));

    /// <summary>Goes on with a run a previous process left waiting on a person, until it ends.</summary>
    public Task ResumeAsync(Run run, AgentCheckpoint checkpoint, RestoredWait wait) =>
        RunToEndAsync(run, resumed: true, async ct =>
        {
            // A team the agent convenes gets what the skill gives (its instructions, if it still exists), and never more
            // tools than the run had.
            var skill = await TakeUpSkillAsync(run, checkpoint.Skill, ct);

            var loop = new AgentLoop(model, runs, gate, tokens, agent);
            var allowed = await tools.SelectAsync(run.Request.TenantId, checkpoint.Tools, ct);
            return await loop.ResumeAsync(
                AgentOutput.ForRun(run), checkpoint, wait, allowed, ToolContextOf(run, skill, checkpoint.Tools), ct,
                new ChatOptions { ModelId = checkpoint.ModelId }, new AgentWaits(runs, checkpoint.Tools, checkpoint.Skill, _logger));
        });

    /// <summary>Goes on with a team run a previous process left waiting on people, until it ends.</summary>
    public Task ResumeTeamAsync(Run run, TeamCheckpoint checkpoint, IReadOnlyDictionary<string, RestoredWait> waits) =>
        RunToEndAsync(run, resumed: true, async ct =>
        {
            await TakeUpSkillAsync(run, checkpoint.Skill, ct);
            var brief = new TeamBrief(checkpoint.Goal, checkpoint.Experts, checkpoint.Instructions, checkpoint.AllowedTools, WorkspaceOf(run), checkpoint.Skill);
            var synthesis = await TeamOf(durable: true).ResumeAsync(run, brief, checkpoint, waits, ct);
            return new AgentAnswer(synthesis, ChatFinishReason.Stop.Value);
        });

    /// <summary>
    /// The skill a resumed run was shaped by, if it still exists, with its wait timeouts applied to the run's new requests.
    /// </summary>
    private async Task<Skill?> TakeUpSkillAsync(Run run, string? name, CancellationToken cancellationToken)
    {
        var skill = name is null ? null : await setup.FindSkillAsync(run.Request.TenantId, name, cancellationToken);
        if (skill is not null)
        {
            run.Timeouts = run.Timeouts.For(skill);
        }

        return skill;
    }

    /// <summary>
    /// The run's answer, then its one terminal event, stored before the run is recorded as ended; a run suspended for a
    /// restart (its wait stored) ends here without either, and stays open for the next process, as does a run another
    /// instance took over (which ends it, or goes on with it). One log line says it started (or was resumed), one how
    /// it ended.
    /// </summary>
    private async Task RunToEndAsync(Run run, bool resumed, Func<CancellationToken, Task<AgentAnswer>> answering)
    {
        var status = RunStatus.Failed;
        var outcome = "failed";
        var suspended = false;
        var started = Stopwatch.GetTimestamp();
        LogRunStarted(run.Id, resumed ? "resumed" : "started", run.SessionId, run.Request.TenantId, _modelName);
        try
        {
            var answer = await answering(run.StopToken);
            if (!run.TryFinish())
            {
                // A stop crossed the end of the answer: the run ends as stopped, as the client who stopped it was told.
                throw new OperationCanceledException(run.StopToken);
            }

            await runs.AppendMessageAsync(run.SessionId, run.Id, new HistoryMessage(HistoryMessage.Assistant, answer.Content), CancellationToken.None);
            await run.EndAsync(new FinalAnswerEvent(answer.Content, run.Usage, answer.FinishReason));
            status = RunStatus.Completed;
            outcome = "completed";
        }
        catch (OperationCanceledException) when ((run.StopReason == StopReason.Suspended && run.HasDurableWait) || run.StopReason == StopReason.TakenOver)
        {
            suspended = true;
            outcome = run.StopReason == StopReason.TakenOver ? "left to the instance that took it over" : "suspended, waiting on a person, for the next start";
        }
        catch (Exception ex)
        {
            string code;
            (status, code) = await EndWithErrorAsync(run, ex);
            outcome = $"with error {code}";
        }
        finally
        {
            if (!suspended)
            {
                run.MarkTerminalSent();
            }

            await run.FlushAsync();
            if (!suspended)
            {
                // Recorded as ended only once the terminal event is stored: a crash in between leaves the run open,
                // and recovery then sees the stored terminal event and does not add another.
                try
                {
                    await DurableWaits.ForgetAsync(runs, run); // it may have ended while waiting

                    await runs.EndRunAsync(run.Id, status, CancellationToken.None);
                }
                catch (Exception storeFailure)
                {
                    LogRunFailed(storeFailure, run.Id, "store");
                }
            }

            active.Remove(run);
            var usage = run.Usage;
            LogRunEnded(run.Id, outcome, Stopwatch.GetElapsedTime(started).TotalMilliseconds, run.SessionId, run.Request.TenantId, _modelName,
                usage.InputTokens, usage.OutputTokens);
        }
    }

    private async Task<AgentAnswer> AnswerAsync(Run run, Skill? forced, CancellationToken cancellationToken)
    {
        var (match, teamGoal, messages) = await setup.PrepareAsync(run, forced, cancellationToken);
        if (match is not null)
        {
            run.Timeouts = run.Timeouts.For(match.Skill);
            await run.EmitAsync(new SkillMatchEvent(match.Skill.Name, match.Score, match.Matched));
        }

        if (teamGoal is not null)
        {
            // The team is the run's whole answer: its waits on people are stored, so that it outlives the process.
            var synthesis = await ConveneTeamAsync(run, teamGoal, match?.Skill, match?.Skill.Tools, durable: true, cancellationToken);
            return new AgentAnswer(synthesis, ChatFinishReason.Stop.Value);
        }

        var loop = new AgentLoop(model, runs, gate, tokens, agent);
        var allowed = await tools.SelectAsync(run.Request.TenantId, match?.Skill.Tools, cancellationToken);
        return await loop.RunAsync(
            AgentOutput.ForRun(run), messages, allowed, ToolContextOf(run, match?.Skill, match?.Skill.Tools), cancellationToken,
            new ChatOptions { ModelId = match?.Skill.Model }, new AgentWaits(runs, match?.Skill.Tools, match?.Skill.Name, _logger));
    }

    /// <summary>
    /// What the tools of the run's own agent work with: the session's workspace, the user, and a team they may convene
    /// with the skill's instructions and no more tools than the run has.
    /// </summary>
    private ToolContext ToolContextOf(Run run, Skill? skill, IReadOnlyCollection<string>? allowedTools) =>
        new(WorkspaceOf(run), run.HumanFor(null), (goal, ct) => ConveneTeamAsync(run, goal, skill, allowedTools, durable: false, ct), run.HumanInCallFor(null));

    private Workspace WorkspaceOf(Run run) => new(Path.Combine(agent.WorkspacesPath, run.SessionId));

    /// <summary>
    /// Convenes a team for the run. A team the run's own agent convenes with a tool keeps its waits in memory only: the
    /// agent's loop around it has no checkpoint to go on from.
    /// </summary>
    private async Task<string> ConveneTeamAsync(
        Run run, string goal, Skill? skill, IReadOnlyCollection<string>? allowedTools, bool durable, CancellationToken cancellationToken)
    {
        var all = BuiltInExperts.All.Concat(await experts.ListAsync(run.Request.TenantId, cancellationToken)).ToList();
        var brief = new TeamBrief(goal, all, skill?.Instructions, allowedTools, WorkspaceOf(run), skill?.Name);
        return await TeamOf(durable).RunAsync(run, brief, cancellationToken);
    }

    private TeamOrchestrator TeamOf(bool durable) =>
        new(model, runs, gate, tools, teams, tokens, agent, durable ? _logger : null);

    private async Task<(RunStatus Status, string Code)> EndWithErrorAsync(Run run, Exception ex)
    {
        var (code, message, retryable, status) = ex switch
        {
            OperationCanceledException when run.StopReason is StopReason.Shutdown or StopReason.Suspended =>
                (ErrorCodes.Internal, "The server shut down during the run; send the message again.", true, RunStatus.Failed),
            OperationCanceledException when run.StopReason == StopReason.KeyRevoked =>
                (ErrorCodes.Cancelled, "The run was stopped: its API key was revoked.", false, RunStatus.Cancelled),
            OperationCanceledException when run.StopReason == StopReason.CancelledByOperator =>
                (ErrorCodes.Cancelled, "The run was cancelled by an administrator.", false, RunStatus.Cancelled),
            OperationCanceledException when run.StopReason is not null =>
                (ErrorCodes.Cancelled, "The run was cancelled.", false, RunStatus.Cancelled),
            AskHumanTimeoutException => (ErrorCodes.Timeout, ex.Message, false, RunStatus.Failed),
            ModelException model => (ErrorCodes.LlmError, ex.Message, model.Retryable, RunStatus.Failed),
            ToolStepLimitException => (ErrorCodes.ToolError, ex.Message, false, RunStatus.Failed),
            TeamFailedException team => (team.Code, ex.Message, team.Code is ErrorCodes.LlmError or ErrorCodes.Timeout, RunStatus.Failed),
            _ => (ErrorCodes.Internal, "The run failed unexpectedly.", false, RunStatus.Failed),
        };
        // A failure worth an operator's look; a run the shutdown ended is only told in its end line.
        if (code is ErrorCodes.Internal or ErrorCodes.LlmError && run.StopReason is not (StopReason.Shutdown or StopReason.Suspended))
        {
            LogRunFailed(ex, run.Id, code);
        }

        await run.EndAsync(new ErrorEvent(code, message, retryable) { Usage = run.Usage });
        return (status, code);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} {How}: session {SessionId}, tenant {TenantId}, model {Model}")]
    private partial void LogRunStarted(string runId, string how, string sessionId, string tenantId, string model);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Run {RunId} ended {Outcome} after {DurationMs:0} ms: session {SessionId}, tenant {TenantId}, model {Model}, {InputTokens} input and {OutputTokens} output tokens")]
    private partial void LogRunEnded(string runId, string outcome, double durationMs, string sessionId, string tenantId, string model, long inputTokens, long outputTokens);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId} failed ({Code})")]
    private partial void LogRunFailed(Exception exception, string runId, string code);
}
