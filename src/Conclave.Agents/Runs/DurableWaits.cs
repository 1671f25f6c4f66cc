using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

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

    /// <summary>Reads a stored checkpoint; null when it cannot be read (written by another version, say).</summary>
    public static AgentCheckpoint? FromJson(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<AgentCheckpoint>(json, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    internal string ToJson() => JsonSerializer.Serialize(this, Json);
}

/// <summary>A wait a previous process stored, open again: its request, and the answer that will come to it.</summary>
/// <param name="RequestId">The request, under its own id.</param>
/// <param name="Kind">A confirmation or a question.</param>
/// <param name="Answer">Completes with the answer from any socket.</param>
/// <param name="ExpiresAt">When it ends unanswered, or null for never.</param>
public sealed record RestoredWait(string RequestId, RequestKind Kind, Task<HumanAnswer> Answer, DateTime? ExpiresAt);

/// <summary>Stores the waits of a run's own agent loop with its checkpoint, so that they outlive the process.</summary>
/// <param name="store">Where runs are stored.</param>
/// <param name="toolNames">The tools the run may use (a skill's), or null for all.</param>
public sealed class DurableWaits(IRunStore store, IReadOnlyList<string>? toolNames)
{
    /// <summary>The tools the run may use, kept in the checkpoint.</summary>
    public IReadOnlyList<string>? ToolNames { get; } = toolNames;

    internal async Task SaveAsync(Run run, OpenedWait opened, AgentCheckpoint checkpoint)
    {
        var announcement = Encoding.UTF8.GetString(opened.Announcement.Utf8Json.Span);
        await store.SaveWaitAsync(
            new RunWait(run.Id, opened.RequestId, opened.Kind, announcement, opened.Announcement.EventId, opened.ExpiresAt, checkpoint.ToJson()),
            CancellationToken.None);
        run.HasDurableWait = true;
    }

    internal Task DeleteAsync(Run run) => store.DeleteWaitAsync(run.Id, CancellationToken.None);
}
