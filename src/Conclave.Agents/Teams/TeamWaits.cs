using System.Text.Json;
using Conclave.Agents.Runs;
using Microsoft.Extensions.Logging;

namespace Conclave.Agents.Teams;

/// <summary>Why a task of a team failed.</summary>
/// <param name="Code">The error code it counts as.</param>
/// <param name="Message">What went wrong.</param>
public sealed record TaskFailure(string Code, string Message);

/// <summary>A waiting expert's loop, in a team's checkpoint.</summary>
/// <param name="RequestId">The request it waits on.</param>
/// <param name="Agent">Its agent loop's checkpoint (<see cref="AgentCheckpoint"/> JSON).</param>
public sealed record ExpertWait(string RequestId, string Agent);

/// <summary>
/// Where a team stands while experts of it wait on people: its brief, the plan and each task's state and result, and the
/// loops of the waiting experts. Stored with the run's wait, it lets the next process go on from there: finished tasks
/// keep their results, waiting ones wait again, and those that were running start again.
/// </summary>
public sealed class TeamCheckpoint
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);

    /// <summary>The team.</summary>
    public required string TeamId { get; init; }

    /// <summary>The user's goal.</summary>
    public required string Goal { get; init; }

    /// <summary>A skill's instructions for the synthesis, if any.</summary>
    public string? Instructions { get; init; }

    /// <summary>A skill's tool list, which limits the experts' tools too; null for no limit.</summary>
    public IReadOnlyList<string>? AllowedTools { get; init; }

    /// <summary>The skill that shaped the run, if any (its wait timeouts hold after a restart too).</summary>
    public string? Skill { get; init; }

    /// <summary>The experts the plan names, as they were.</summary>
    public required List<Expert> Experts { get; init; }

    /// <summary>The plan.</summary>
    public required List<PlanTask> Plan { get; init; }

    /// <summary>Each task's state, by task id.</summary>
    public required Dictionary<string, string> Status { get; init; }

    /// <summary>The results of the finished tasks, by task id.</summary>
    public required Dictionary<string, string> Results { get; init; }

    /// <summary>Why each failed task failed, by task id.</summary>
    public required Dictionary<string, TaskFailure> Failures { get; init; }

    /// <summary>The code of the first failure, which the run ends with when no task succeeds.</summary>
    public string? FirstFailureCode { get; init; }

    /// <summary>The waiting experts' loops, by task id.</summary>
    public required Dictionary<string, ExpertWait> Waiting { get; init; }

    /// <summary>Reads a stored checkpoint; null when it is not a team's (or cannot be read).</summary>
    public static TeamCheckpoint? FromJson(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<TeamCheckpoint>(json, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    internal string ToJson() => JsonSerializer.Serialize(this, Json);
}

/// <summary>
/// Stores the waits of a team's experts as one wait of the run: every open request with the team's checkpoint, written
/// again whenever an expert starts or stops waiting and whenever a task finishes while one waits.
/// </summary>
internal sealed partial class TeamWaits(IRunStore store, Run run, Func<IReadOnlyDictionary<string, ExpertWait>, TeamCheckpoint> checkpoint, ILogger logger)
{
    private readonly SemaphoreSlim _saving = new(1, 1);
    private readonly Dictionary<string, (WaitRequest Request, string Agent)> _open = new(StringComparer.Ordinal);

    /// <summary>The waits of the expert working on <paramref name="taskId"/>.</summary>
    public DurableWaits For(string taskId, IReadOnlyList<string>? toolNames) => new ExpertWaits(this, taskId, toolNames);

    /// <summary>
    /// Counts an expert's wait in every save from now until it ends: one just opened, or one a previous process stored
    /// and this one took up again.
    /// </summary>
    public void Track(string taskId, WaitRequest request, string agent)
    {
        lock (_open)
        {
            _open[taskId] = (request, agent);
        }
    }

    /// <summary>Stores the team as it stands now, if an expert of it waits (or forgets the wait, once none does).</summary>
    public async Task SaveAsync()
    {
        await _saving.WaitAsync(CancellationToken.None);
        try
        {
            List<(string TaskId, WaitRequest Request, string Agent)> open;
            lock (_open)
            {
                open = [.. _open.Select(w => (w.Key, w.Value.Request, w.Value.Agent))];
            }

            if (open.Count == 0)
            {
                await DurableWaits.ForgetAsync(store, run);
                return;
            }

            var waiting = open.ToDictionary(w => w.TaskId, w => new ExpertWait(w.Request.RequestId, w.Agent), StringComparer.Ordinal);
            var requests = open.Select(w => w.Request).OrderBy(r => r.AnnouncementEventId).ToList();
            await store.SaveWaitAsync(new RunWait(run.Id, requests, checkpoint(waiting).ToJson()), CancellationToken.None);
            run.HasDurableWait = true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogNotStored(ex, run.Id);
        }
        finally
        {
            _saving.Release();
        }
    }

    private Task OpenAsync(string taskId, OpenedWait opened, string agent)
    {
        Track(taskId, opened.ToRequest(), agent);
        return SaveAsync();
    }

    private async Task CloseAsync(string taskId)
    {
        bool removed;
        lock (_open)
        {
            removed = _open.Remove(taskId);
        }

        if (removed)
        {
            await SaveAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The team waits of run {RunId} could not be stored; they will not outlive this process")]
    private partial void LogNotStored(Exception exception, string runId);

    private sealed class ExpertWaits(TeamWaits team, string taskId, IReadOnlyList<string>? toolNames) : DurableWaits
    {
        public override IReadOnlyList<string>? ToolNames { get; } = toolNames;

        public override string? SkillName => null;

        internal override Task SaveAsync(Run run, OpenedWait opened, Func<AgentCheckpoint> checkpoint) =>
            team.OpenAsync(taskId, opened, checkpoint().ToJson());

        internal override Task EndAsync(Run run) => team.CloseAsync(taskId);
    }
}
