using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Conclave.Agents.Runs;

/// <summary>
/// Where a run's own agent loop stands while it waits on a person: the conversation, the answer so far, the turn's
/// calls and the results of those that ran. Stored with the wait, it lets the next process go on from there.
/// </summary>
public sealed class AgentCheckpoint
{
    private static readonly JsonSerializerOptions Json = new(AIJsonUtilities.DefaultOptions);

    /// <summary>The conversation, the waiting turn's call included.</summary>
    public required List<ChatMessage> Messages { get; init; }

    /// <summary>The answer text streamed so far.</summary>
    public required string Answer { get; init; }

    /// <summary>The step number of the waiting call.</summary>
    public required int Steps { get; init; }

    /// <summary>Every call of the waiting turn.</summary>
    public required List<FunctionCallContent> Calls { get; init; }

    /// <summary>The waiting call's place in <see cref="Calls"/>.</summary>
    public required int Index { get; init; }

    /// <summary>The results of the calls before it.</summary>
    public required List<AIContent> Results { get; init; }

    /// <summary>The tools the run may use (a skill's), or null for all.</summary>
    public IReadOnlyList<string>? Tools { get; init; }

    /// <summary>The model id the run asks for, if any.</summary>
    public string? ModelId { get; init; }

    /// <summary>The skill that shaped the run, if any.</summary>
    public string? Skill { get; init; }

    /// <summary>Why the arguments of a call could not be read, by call id (its exception is not kept in JSON).</summary>
    public Dictionary<string, string> UnreadableCalls { get; init; } = [];

    /// <summary>The results that are errors, by call id (their exception is not kept in JSON).</summary>
    public Dictionary<string, string> FailedResults { get; init; } = [];

    /// <summary>Reads a stored checkpoint; null when it cannot be read (written by another version, say).</summary>
    public static AgentCheckpoint? FromJson(string json)
    {
        AgentCheckpoint? checkpoint;
        try
        {
            checkpoint = JsonSerializer.Deserialize<AgentCheckpoint>(json, Json);
        }
        catch (JsonException)
        {
            return null;
        }

        // What JSON does not keep: a call's reading error, and which results are errors.
        var contents = checkpoint?.Messages.SelectMany(m => m.Contents).Concat(checkpoint.Calls).Concat(checkpoint.Results) ?? [];
        foreach (var content in contents)
        {
            if (content is FunctionCallContent call && checkpoint!.UnreadableCalls.TryGetValue(call.CallId, out var unreadable))
            {
                call.Exception = new JsonException(unreadable);
            }
            else if (content is FunctionResultContent result && checkpoint!.FailedResults.TryGetValue(result.CallId, out var failed))
            {
                // An error's result is its text, as the loop made it (a tool's own result is JSON either way).
                result.Exception = new Tools.ToolException(failed);
                result.Result = result.Result is JsonElement { ValueKind: JsonValueKind.String } text ? text.GetString() : result.Result;
            }
        }

        return checkpoint;
    }

    internal string ToJson()
    {
        var contents = Messages.SelectMany(m => m.Contents).Concat(Calls).Concat(Results).ToList();
        foreach (var call in contents.OfType<FunctionCallContent>().Where(c => c.Exception is not null))
        {
            UnreadableCalls[call.CallId] = call.Exception!.Message;
        }

        foreach (var result in contents.OfType<FunctionResultContent>().Where(r => r.Exception is not null))
        {
            FailedResults[result.CallId] = result.Exception!.Message;
        }

        return JsonSerializer.Serialize(this, Json);
    }
}

/// <summary>A wait a previous process stored, open again: its request as stored, and the answer that will come to it.</summary>
/// <param name="Request">The request, as stored with the wait.</param>
/// <param name="Answer">Completes with the answer from any socket.</param>
public sealed record RestoredWait(WaitRequest Request, Task<HumanAnswer> Answer)
{
    /// <summary>The request's id.</summary>
    public string RequestId => Request.RequestId;

    /// <summary>A confirmation or a question.</summary>
    public RequestKind Kind => Request.Kind;

    /// <summary>When it ends unanswered, or null for never.</summary>
    public DateTime? ExpiresAt => Request.ExpiresAt;
}

/// <summary>Keeps the waits of an agent loop on people, each with the loop's checkpoint, so that they outlive the process.</summary>
public abstract class DurableWaits
{
    /// <summary>The tools the loop may use (a skill's), or null for all, kept in the checkpoint.</summary>
    public abstract IReadOnlyList<string>? ToolNames { get; }

    /// <summary>The skill that shaped the run, kept in the checkpoint.</summary>
    public abstract string? SkillName { get; }

    /// <summary>Stores the wait; one that cannot be stored goes on in memory only (it is logged), and ends with the process.</summary>
    internal abstract Task SaveAsync(Run run, OpenedWait opened, Func<AgentCheckpoint> checkpoint);

    /// <summary>Forgets the loop's stored wait, if it has one: answered, it no longer needs to outlive the process.</summary>
    internal abstract Task EndAsync(Run run);

    /// <summary>Deletes the run's stored wait, if it has one; the run counts as waiting durably until that is done.</summary>
    internal static async Task ForgetAsync(IRunStore store, Run run)
    {
        if (run.HasDurableWait)
        {
            await store.DeleteWaitAsync(run.Id, CancellationToken.None);
            run.HasDurableWait = false;
        }
    }
}

/// <summary>Stores the waits of a run's own agent loop (one at a time) with its checkpoint.</summary>
/// <param name="store">Where runs are stored.</param>
/// <param name="toolNames">The tools the run may use (a skill's), or null for all.</param>
/// <param name="skillName">The skill that shaped the run, if any.</param>
/// <param name="logger">Where a wait that could not be stored is told.</param>
public sealed partial class AgentWaits(IRunStore store, IReadOnlyList<string>? toolNames, string? skillName, ILogger logger) : DurableWaits
{
    /// <inheritdoc />
    public override IReadOnlyList<string>? ToolNames { get; } = toolNames;

    /// <inheritdoc />
    public override string? SkillName { get; } = skillName;

    /// <inheritdoc />
    internal override async Task SaveAsync(Run run, OpenedWait opened, Func<AgentCheckpoint> checkpoint)
    {
        try
        {
            await store.SaveWaitAsync(new RunWait(run.Id, [opened.ToRequest()], checkpoint().ToJson()), CancellationToken.None);
            run.HasDurableWait = true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogNotStored(ex, run.Id, opened.RequestId);
        }
    }

    /// <inheritdoc />
    internal override Task EndAsync(Run run) => ForgetAsync(store, run);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The wait of run {RunId} on request {RequestId} could not be stored; it will not outlive this process")]
    private partial void LogNotStored(Exception exception, string runId, string requestId);
}
