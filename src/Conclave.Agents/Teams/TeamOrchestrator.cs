using Conclave.Agents.Events;
using Conclave.Agents.Models;
using Conclave.Agents.Runs;
using Conclave.Agents.Tools;
using Microsoft.Extensions.AI;

namespace Conclave.Agents.Teams;

/// <summary>The team could not do anything of its goal; the run ends with an error.</summary>
public sealed class TeamFailedException(string code, string message) : Exception(message)
{
    /// <summary>The error code the run ends with.</summary>
    public string Code { get; } = code;
}

/// <summary>What a team works with: its goal, its experts, and what shapes it.</summary>
/// <param name="Goal">The user's goal.</param>
/// <param name="Experts">The experts the planner may choose from.</param>
/// <param name="Instructions">A skill's instructions for the planner and the synthesis, if any.</param>
/// <param name="AllowedTools">A skill's tool list, which limits the experts' tools too; null for no limit.</param>
/// <param name="Workspace">The session's workspace.</param>
/// <param name="Skill">The skill that shaped the run, if any.</param>
public sealed record TeamBrief(
    string Goal, IReadOnlyList<Expert> Experts, string? Instructions, IReadOnlyCollection<string>? AllowedTools, Workspace Workspace, string? Skill = null);

/// <summary>
/// Runs a team inside a run: the planner splits the goal into a task graph, experts work on the tasks
/// (independent ones at the same time, up to a limit), and a synthesis answers from their results.
/// Every change of a task's state is a <c>plan_update</c>; experts stream as <c>expert_step</c>s and
/// wait for people like single agents do, each on its own. With <paramref name="waitsLogger"/>, their waits are stored
/// with the team's checkpoint (<see cref="TeamWaits"/>), so that the team outlives the process
/// (<see cref="ResumeAsync"/>).
/// </summary>
public sealed class TeamOrchestrator(
    IChatClient model,
    IRunStore store,
    ConfirmationGate gate,
    ToolCatalog tools,
    TeamOptions options,
    TokenCounter tokens,
    AgentOptions agentOptions,
    Microsoft.Extensions.Logging.ILogger? waitsLogger = null)
{
    private const string Pending = "pending";
    private const string Running = "running";
    private const string Done = "done";
    private const string Failed = "failed";
    private const string Cancelled = "cancelled";

    /// <summary>Runs the team and returns the synthesis.</summary>
    public async Task<string> RunAsync(Run run, TeamBrief brief, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(brief);
        var plan = await PlanAsync(run, brief, cancellationToken);
        var team = new TeamState(SortableIds.New("team_"), plan);
        var roles = brief.Experts.ToDictionary(e => e.Name, StringComparer.Ordinal);
        var members = plan.Select(t => t.Expert).Distinct().Select(name => new TeamMember(name, roles[name].Role)).ToList();
        await run.EmitAsync(new TeamFormedEvent(team.Id, brief.Goal, members));
        await run.EmitAsync(team.Snapshot());
        return await FinishAsync(run, brief, team, roles, new Dictionary<string, ResumedExpert>(), cancellationToken);
    }

    /// <summary>
    /// Goes on with a team a previous process left waiting on people: the waiting experts wait again (on
    /// <paramref name="waits"/>, by request id), the tasks that were running start again, and the team works on to its
    /// synthesis.
    /// </summary>
    public async Task<string> ResumeAsync(
        Run run, TeamBrief brief, TeamCheckpoint checkpoint, IReadOnlyDictionary<string, RestoredWait> waits, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(brief);
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(waits);
        var team = TeamState.From(checkpoint);
        var roles = brief.Experts.ToDictionary(e => e.Name, StringComparer.Ordinal);
        var resumed = new Dictionary<string, ResumedExpert>(StringComparer.Ordinal);
        foreach (var (taskId, wait) in checkpoint.Waiting)
        {
            if (waits.TryGetValue(wait.RequestId, out var restored))
            {
                if (AgentCheckpoint.FromJson(wait.Agent) is { } agent)
                {
                    resumed[taskId] = new ResumedExpert(agent, restored, wait.Agent);
                }
                else
                {
                    // A loop this version cannot read: its task starts again, and its request is no longer open.
                    run.Pending.TryClose(wait.RequestId);
                }
            }
        }

        // Clients see where the team stands again: what is done, and what is running (again).
        await run.EmitAsync(team.Snapshot());
        return await FinishAsync(run, brief, team, roles, resumed, cancellationToken);
    }

    private async Task<string> FinishAsync(
        Run run, TeamBrief brief, TeamState team, Dictionary<string, Expert> roles, Dictionary<string, ResumedExpert> resumed,
        CancellationToken cancellationToken)
    {
        var waits = waitsLogger is null ? null : new TeamWaits(store, run, waiting => Checkpoint(brief, team, roles, waiting), waitsLogger);
        foreach (var (taskId, expert) in resumed)
        {
            // Stored already: every save from here keeps it until it ends.
            waits?.Track(taskId, expert.Wait.Request, expert.AgentJson);
        }

        try
        {
            await ExecuteAsync(run, brief, team, roles, resumed, waits, cancellationToken);
            if (!team.Status.ContainsValue(Done))
            {
                var reasons = string.Join("; ", team.Failures.Select(f => $"{f.Key}: {f.Value.Message}"));
                await run.EmitAsync(new TeamDissolvedEvent(team.Id, Failed));
                throw new TeamFailedException(team.FirstFailureCode ?? ErrorCodes.LlmError, $"No task of the team succeeded ({reasons}).");
            }

            var synthesis = await SynthesizeAsync(run, brief, team, cancellationToken);
            await run.EmitAsync(new TeamSynthesisEvent(team.Id, synthesis));
            await run.EmitAsync(new TeamDissolvedEvent(team.Id, "completed"));
            return synthesis;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && run.StopReason == StopReason.Suspended && run.HasDurableWait)
        {
            // Suspended for a restart with its waits stored: the team goes on in the next process, as its checkpoint says.
            throw;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (team.CancelUnfinished())
            {
                await run.EmitAsync(team.Snapshot());
            }

            await run.EmitAsync(new TeamDissolvedEvent(team.Id, Cancelled));
            throw;
        }
        catch (ModelException)
        {
            await run.EmitAsync(new TeamDissolvedEvent(team.Id, Failed));
            throw;
        }
    }

    private async Task<IReadOnlyList<PlanTask>> PlanAsync(Run run, TeamBrief brief, CancellationToken cancellationToken)
    {
        var messages = new List<ChatMessage>
        {
            new(ChatRole.System, TeamPrompts.Planner(brief.Experts, options.MaxTasks, brief.Instructions)),
            new(ChatRole.User, brief.Goal),
        };
        var names = brief.Experts.Select(e => e.Name).ToList();
        string? rejection = null;
        for (var attempt = 1; attempt <= 2; attempt++)
        {
            var answer = await AskModelAsync(run, messages, new ChatOptions { ResponseFormat = ChatResponseFormat.Json }, cancellationToken);
            var (plan, error) = TeamPlanReader.Read(answer, names, options.MaxTasks);
            if (plan is not null)
            {
                return plan;
            }

            rejection = error;
            messages.Add(new ChatMessage(ChatRole.Assistant, answer));
            messages.Add(new ChatMessage(ChatRole.User, TeamPrompts.PlanRejected(error!)));
        }

        throw new ModelException($"The planner's answer was not a plan: {rejection} (after one more try).", new InvalidOperationException(rejection));
    }

    private async Task ExecuteAsync(
        Run run, TeamBrief brief, TeamState team, Dictionary<string, Expert> roles, Dictionary<string, ResumedExpert> resumed,
        TeamWaits? waits, CancellationToken cancellationToken)
    {
        var running = new Dictionary<Task<TaskOutcome>, PlanTask>();
        void Start(PlanTask task, ResumedExpert? resume)
        {
            var dependencies = task.Dependencies.Select(d => (team.Tasks[d], team.Results[d])).ToList();
            running[Task.Run(() => WorkAsync(run, brief, team.Id, roles[task.Expert], task, dependencies, resume, waits, cancellationToken), CancellationToken.None)] = task;
        }

        try
        {
            // A resumed team: the tasks that were running when the process stopped (waiting on a person, or not) go on.
            foreach (var task in team.Plan.Where(t => team.Status[t.TaskId] == Running))
            {
                Start(task, resumed.GetValueOrDefault(task.TaskId));
            }

            while (true)
            {
                var started = false;
                foreach (var task in team.Ready().Take(options.MaxParallel - running.Count).ToList())
                {
                    team.Set(task.TaskId, Running);
                    Start(task, null);
                    started = true;
                }

                if (started)
                {
                    await run.EmitAsync(team.Snapshot());
                }

                if (running.Count == 0)
                {
                    return;
                }

                var finished = await Task.WhenAny(running.Keys);
                var done = running[finished];
                running.Remove(finished);
                var outcome = await finished;
                if (outcome.Failure is null)
                {
                    team.Succeed(done.TaskId, outcome.Content);
                    await run.EmitAsync(new ExpertResultEvent(team.Id, done.Expert, done.TaskId, outcome.Content));
                }
                else
                {
                    team.Fail(done.TaskId, outcome.Failure);
                }

                await run.EmitAsync(team.Snapshot());
                if (waits is not null)
                {
                    // A finished task keeps its result across a restart while another waits on a person.
                    await waits.SaveAsync();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Let every expert stop before the plan is marked cancelled, so nothing of theirs follows it.
            await Task.WhenAll(running.Keys.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
            throw;
        }
    }

    private async Task<TaskOutcome> WorkAsync(
        Run run,
        TeamBrief brief,
        string teamId,
        Expert expert,
        PlanTask task,
        List<(PlanTask, string)> dependencies,
        ResumedExpert? resume,
        TeamWaits? waits,
        CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(options.TaskTimeoutSeconds));
        var scope = new TeamScope(teamId, expert.Name, task.TaskId);
        var allowed = expert.Tools is null ? brief.AllowedTools : expert.Tools.Where(t => brief.AllowedTools?.Contains(t) ?? true).ToList();
        var expertTools = (await tools.SelectAsync(run.Request.TenantId, allowed, cancellationToken)).Where(t => t.Name != ToolCatalog.ConveneTeamName).ToList();
        var toolContext = new ToolContext(brief.Workspace, run.HumanFor(scope), CallHuman: run.HumanInCallFor(scope));
        var durable = waits?.For(task.TaskId, allowed?.ToList());
        var output = AgentOutput.ForExpert(run, scope);
        var chatOptions = new ChatOptions { ModelId = expert.Model };
        var loop = new AgentLoop(model, store, gate, tokens, agentOptions);
        try
        {
            var answer = resume is not null
                ? await loop.ResumeAsync(output, resume.Checkpoint, resume.Wait, expertTools, toolContext, deadline.Token, chatOptions, durable)
                : await loop.RunAsync(
                    output,
                    [new(ChatRole.System, TeamPrompts.ExpertSystem(expert)), new(ChatRole.User, TeamPrompts.ExpertTask(brief.Goal, task, dependencies))],
                    expertTools,
                    toolContext,
                    deadline.Token,
                    chatOptions,
                    durable);
            return new TaskOutcome(answer.Content, null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            return new TaskOutcome(string.Empty, new TaskFailure(ErrorCodes.Timeout, $"timed out after {options.TaskTimeoutSeconds} s"));
        }
        catch (Exception ex)
        {
            var code = ex switch
            {
                AskHumanTimeoutException => ErrorCodes.Timeout,
                ToolStepLimitException => ErrorCodes.ToolError,
                ModelException => ErrorCodes.LlmError,
                _ => ErrorCodes.Internal,
            };
            return new TaskOutcome(string.Empty, new TaskFailure(code, ex.Message));
        }
    }

    /// <summary>The team as it stands, with its waiting experts' loops: what a restart goes on from.</summary>
    private static TeamCheckpoint Checkpoint(
        TeamBrief brief, TeamState team, Dictionary<string, Expert> roles, IReadOnlyDictionary<string, ExpertWait> waiting)
    {
        lock (team)
        {
            return new TeamCheckpoint
            {
                TeamId = team.Id,
                Goal = brief.Goal,
                Instructions = brief.Instructions,
                AllowedTools = brief.AllowedTools?.ToList(),
                Skill = brief.Skill,
                Experts = [.. team.Plan.Select(t => t.Expert).Distinct().Select(name => roles[name])],
                Plan = [.. team.Plan],
                Status = new Dictionary<string, string>(team.Status, StringComparer.Ordinal),
                Results = new Dictionary<string, string>(team.Results, StringComparer.Ordinal),
                Failures = new Dictionary<string, TaskFailure>(team.Failures, StringComparer.Ordinal),
                FirstFailureCode = team.FirstFailureCode,
                Waiting = new Dictionary<string, ExpertWait>(waiting, StringComparer.Ordinal),
            };
        }
    }

    private async Task<string> SynthesizeAsync(Run run, TeamBrief brief, TeamState team, CancellationToken cancellationToken)
    {
        var outcomes = team.Plan.Select(t => (t, Describe(team, t.TaskId), team.Results.GetValueOrDefault(t.TaskId, string.Empty)));
        var messages = new List<ChatMessage>
        {
            new(ChatRole.System, TeamPrompts.SynthesisSystem(brief.Instructions)),
            new(ChatRole.User, TeamPrompts.SynthesisInput(brief.Goal, outcomes)),
        };
        return await AskModelAsync(run, messages, null, cancellationToken);
    }

    private static string Describe(TeamState team, string taskId) => team.Status[taskId] switch
    {
        Done => Done,
        Failed => $"failed: {team.Failures[taskId].Message}",
        var other => $"{other}: not done because a task it depends on failed",
    };

    /// <summary>
    /// One whole answer of the model, its usage counted on the run. It is streamed and gathered, as the agents' answers
    /// are: some OpenAI-compatible endpoints answer only as a stream.
    /// </summary>
    private async Task<string> AskModelAsync(Run run, List<ChatMessage> messages, ChatOptions? chatOptions, CancellationToken cancellationToken)
    {
        var updates = new List<ChatResponseUpdate>();
        try
        {
            await foreach (var update in model.GetStreamingResponseAsync(messages, chatOptions, cancellationToken))
            {
                updates.Add(update);
            }
        }
        catch (Exception ex)
        {
            // The call was cancelled or failed: its prompt was still sent.
            run.AddUsage(tokens.Estimate(messages, 0));
            throw ModelException.From(ex, cancellationToken);
        }

        var response = updates.ToChatResponse();
        run.AddUsage(response.Usage is { } usage
            ? new Usage(usage.InputTokenCount ?? 0, usage.OutputTokenCount ?? 0)
            : tokens.Estimate(messages, outputTokens: response.Text.Length / 4));
        return response.Text;
    }

    private sealed record TaskOutcome(string Content, TaskFailure? Failure);

    /// <summary>An expert a previous process left waiting: its loop, its wait taken up again, and the loop as stored.</summary>
    private sealed record ResumedExpert(AgentCheckpoint Checkpoint, RestoredWait Wait, string AgentJson);

    /// <summary>
    /// The plan and where each task stands; changed only by the orchestrator's own loop, under its own lock, which the
    /// checkpoint of waiting experts takes too.
    /// </summary>
    private sealed class TeamState(string id, IReadOnlyList<PlanTask> plan)
    {
        public static TeamState From(TeamCheckpoint checkpoint)
        {
            var team = new TeamState(checkpoint.TeamId, checkpoint.Plan) { FirstFailureCode = checkpoint.FirstFailureCode };
            foreach (var (taskId, status) in checkpoint.Status)
            {
                team.Status[taskId] = status;
            }

            foreach (var (taskId, result) in checkpoint.Results)
            {
                team.Results[taskId] = result;
            }

            foreach (var (taskId, failure) in checkpoint.Failures)
            {
                team.Failures[taskId] = failure;
            }

            return team;
        }

        public string Id { get; } = id;

        public IReadOnlyList<PlanTask> Plan { get; } = plan;

        public Dictionary<string, PlanTask> Tasks { get; } = plan.ToDictionary(t => t.TaskId, StringComparer.Ordinal);

        public Dictionary<string, string> Status { get; } = plan.ToDictionary(t => t.TaskId, _ => Pending, StringComparer.Ordinal);

        public Dictionary<string, string> Results { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, TaskFailure> Failures { get; } = new(StringComparer.Ordinal);

        public string? FirstFailureCode { get; private set; }

        public IEnumerable<PlanTask> Ready() =>
            Plan.Where(t => Status[t.TaskId] == Pending && t.Dependencies.All(d => Status[d] == Done));

        public void Set(string taskId, string status)
        {
            lock (this)
            {
                Status[taskId] = status;
            }
        }

        public void Succeed(string taskId, string result)
        {
            lock (this)
            {
                Status[taskId] = Done;
                Results[taskId] = result;
            }
        }

        /// <summary>Marks a task failed and every task that waits on it, directly or not, cancelled.</summary>
        public void Fail(string taskId, TaskFailure failure)
        {
            lock (this)
            {
                Status[taskId] = Failed;
                Failures[taskId] = failure;
                FirstFailureCode ??= failure.Code;
                bool changed;
                do
                {
                    changed = false;
                    foreach (var task in Plan.Where(t => Status[t.TaskId] == Pending && t.Dependencies.Any(d => Status[d] is Failed or Cancelled)))
                    {
                        Status[task.TaskId] = Cancelled;
                        changed = true;
                    }
                }
                while (changed);
            }
        }

        /// <summary>Marks every unfinished task cancelled; false when there was none.</summary>
        public bool CancelUnfinished()
        {
            lock (this)
            {
                var unfinished = Status.Where(s => s.Value is Pending or Running).Select(s => s.Key).ToList();
                foreach (var taskId in unfinished)
                {
                    Status[taskId] = Cancelled;
                }

                return unfinished.Count > 0;
            }
        }

        public PlanUpdateEvent Snapshot()
        {
            lock (this)
            {
                return new(Id, Plan.Select(t => new PlanTaskState(t.TaskId, t.Title, t.Expert, Status[t.TaskId], t.Dependencies)).ToList());
            }
        }
    }
}
