using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Conclave.Agents.Teams;
using Microsoft.Extensions.AI;

namespace Conclave.Server.Tests.Infrastructure;

/// <summary>
/// A scripted model for team runs: it tells the planner, each expert (by name and task) and the synthesis
/// apart by their prompts, and lets the test write each part.
/// </summary>
internal sealed partial class TeamScript
{
    public Func<int, IReadOnlyList<ChatMessage>, string> Planner { get; init; } = (_, _) => "{\"tasks\": []}";

    public Func<ExpertCall, CancellationToken, IAsyncEnumerable<ChatResponseUpdate>> Expert { get; init; } =
        (call, _) => ScriptedChatClient.Answer($"{call.TaskId} done");

    public Func<IReadOnlyList<ChatMessage>, string> Synthesis { get; init; } = messages => "synthesis: " + messages[^1].Text;

    public List<IReadOnlyList<ChatMessage>> PlannerCalls { get; } = [];

    public ScriptedChatClient ToClient() => new((messages, _, ct) => Turn(messages, ct));

    public static string Plan(params (string Id, string Expert, string[] DependsOn)[] tasks) =>
        "{\"tasks\": [" + string.Join(", ", tasks.Select(t =>
            $"{{\"task_id\": \"{t.Id}\", \"title\": \"Do {t.Id}\", \"expert\": \"{t.Expert}\", \"depends_on\": [{string.Join(", ", t.DependsOn.Select(d => $"\"{d}\""))}]}}")) + "]}";

    private IAsyncEnumerable<ChatResponseUpdate> Turn(IReadOnlyList<ChatMessage> messages, CancellationToken cancellationToken)
    {
        var system = messages[0].Text;
        if (system.StartsWith(TeamPrompts.PlannerOpening, StringComparison.Ordinal))
        {
            int attempt;
            lock (PlannerCalls)
            {
                PlannerCalls.Add(messages);
                attempt = PlannerCalls.Count;
            }

            return ScriptedChatClient.Answer(Planner(attempt, messages));
        }

        if (system.StartsWith(TeamPrompts.SynthesisOpening, StringComparison.Ordinal))
        {
            return ScriptedChatClient.Answer(Synthesis(messages));
        }

        var expert = ExpertName().Match(system).Groups[1].Value;
        var task = TaskId().Match(messages[1].Text).Groups[1].Value;
        return Expert(new ExpertCall(expert, task, messages), cancellationToken);
    }

    [GeneratedRegex(@"You are ([A-Za-z0-9_.-]+):")]
    private static partial Regex ExpertName();

    [GeneratedRegex(@"Your task \(([^)]+)\)")]
    private static partial Regex TaskId();
}

internal sealed record ExpertCall(string Expert, string TaskId, IReadOnlyList<ChatMessage> Messages)
{
    /// <summary>The tool results the expert got back so far.</summary>
    public IReadOnlyList<FunctionResultContent> Results => Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().ToList();
}

internal static class Stream
{
    public static async IAsyncEnumerable<ChatResponseUpdate> Tokens(int count, int delayMs, string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Delay(delayMs, cancellationToken);
            yield return ScriptedChatClient.Text($"{prefix}{i} ");
        }
    }

    /// <summary>The same token <paramref name="count"/> times, <paramref name="delayMs"/> apart.</summary>
    public static async IAsyncEnumerable<ChatResponseUpdate> Repeat(string token, int count, int delayMs, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Delay(delayMs, cancellationToken);
            yield return ScriptedChatClient.Text(token);
        }
    }

    public static async IAsyncEnumerable<ChatResponseUpdate> Call(string tool, Dictionary<string, object?> arguments)
    {
        await Task.Yield();
        yield return new ChatResponseUpdate(ChatRole.Assistant, [new FunctionCallContent($"call_{Guid.NewGuid():N}", tool, arguments)]);
    }

    public static async IAsyncEnumerable<ChatResponseUpdate> Fail(string message)
    {
        await Task.Yield();
        yield return ScriptedChatClient.Text("starting ");
        throw new InvalidOperationException(message);
    }

    public static async IAsyncEnumerable<ChatResponseUpdate> Hang([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return ScriptedChatClient.Text("thinking hard ");
        await Task.Delay(Timeout.Infinite, cancellationToken);
    }
}
