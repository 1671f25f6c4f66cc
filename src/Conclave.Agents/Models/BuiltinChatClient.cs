using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Conclave.Agents.Teams;
using Conclave.Agents.Tools;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Conclave.Agents.Models;

/// <summary>
/// The deterministic offline model (PROTOCOL.md §4): answers by fixed rules, streams word-sized tokens,
/// and calls tools the way a real model does, through <see cref="FunctionCallContent"/>.
/// </summary>
public sealed partial class BuiltinChatClient(IOptions<BuiltinModelOptions> options, TimeProvider time) : IChatClient
{
    /// <summary>The name the builtin model reports as its provider and model.</summary>
    public const string ModelName = "builtin";

    private const int MaxStreamWords = 1_000_000;
    private static readonly ChatClientMetadata Metadata = new(ModelName, defaultModelId: ModelName);
    private readonly TimeSpan _tokenDelay = TimeSpan.FromMilliseconds(options.Value.TokenDelayMs);

    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        await GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken);

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var history = messages as IReadOnlyList<ChatMessage> ?? messages.ToList();
        var inputTokens = history.Sum(m => CountWords(m.Text));
        var reply = Decide(history);

        yield return Update(new TextReasoningContent(reply.Thought));

        using var pacer = _tokenDelay > TimeSpan.Zero ? new StreamPacer(time, _tokenDelay, cancellationToken) : null;
        var outputTokens = 0;
        if (reply.Call is { } call)
        {
            await PaceAsync(pacer, cancellationToken);
            outputTokens = 1;
            yield return Update(call);
        }
        else
        {
            foreach (var token in reply.Tokens)
            {
                await PaceAsync(pacer, cancellationToken);
                outputTokens++;
                yield return Update(new TextContent(token));
            }
        }

        var usage = new UsageDetails { InputTokenCount = inputTokens, OutputTokenCount = outputTokens, TotalTokenCount = inputTokens + outputTokens };
        yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(usage)])
        {
            FinishReason = reply.Call is null ? ChatFinishReason.Stop : ChatFinishReason.ToolCalls,
            ModelId = ModelName,
        };
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? Metadata
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    /// <inheritdoc />
    public void Dispose()
    {
    }

    /// <summary>Waits the token delay, if there is one; either way, a cancelled stream ends here.</summary>
    private static ValueTask PaceAsync(StreamPacer? pacer, CancellationToken cancellationToken)
    {
        if (pacer is not null)
        {
            return pacer.WaitAsync();
        }

        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled(cancellationToken) : ValueTask.CompletedTask;
    }

    private static ChatResponseUpdate Update(AIContent content) => new(ChatRole.Assistant, [content]) { ModelId = ModelName };

    private static Reply Decide(IReadOnlyList<ChatMessage> history)
    {
        var lastUser = -1;
        for (var i = history.Count - 1; i >= 0; i--)
        {
            if (history[i].Role == ChatRole.User)
            {
                lastUser = i;
                break;
            }
        }

        var text = lastUser >= 0 ? history[lastUser].Text.Trim() : string.Empty;
        var system = history.FirstOrDefault(m => m.Role == ChatRole.System)?.Text ?? string.Empty;
        if (system.StartsWith(TeamPrompts.PlannerOpening, StringComparison.Ordinal))
        {
            return Plan(text);
        }

        if (system.StartsWith(TeamPrompts.SynthesisOpening, StringComparison.Ordinal))
        {
            return Synthesis(text);
        }

        // An expert answers by rules 3 to 5, applied to the team's goal; the researcher by rule 1 too.
        var expert = system.StartsWith(TeamPrompts.ExpertOpening, StringComparison.Ordinal);
        var asks = !expert || system.StartsWith($"{TeamPrompts.ExpertOpening} You are researcher:", StringComparison.Ordinal);
        if (expert)
        {
            text = GoalOf(text);
        }

        var result = history.Skip(lastUser + 1).SelectMany(m => m.Contents).OfType<FunctionResultContent>().LastOrDefault();
        return result is null ? FirstTurn(text, history.Count, expert, asks) : AfterTool(text, result);
    }

    private static Reply Plan(string goal)
    {
        string[] none = [];
        var tasks = new[]
        {
            new PlanTask("research", $"Research: {goal}", "researcher", none),
            new PlanTask("analysis", $"Analysis: {goal}", "analyst", none),
            new PlanTask("writing", $"Write the answer: {goal}", "writer", ["research", "analysis"]),
        };
        var json = JsonSerializer.Serialize(new Dictionary<string, PlanTask[]> { ["tasks"] = tasks }, AIJsonUtilities.DefaultOptions);
        return Reply.Answer("Research and analysis can run side by side; the writing needs both.", json);
    }

    private static Reply Synthesis(string input)
    {
        var goal = GoalOf(input);
        var lines = input.Split('\n')
            .Where(l => l.StartsWith(TeamPrompts.TaskHeading, StringComparison.Ordinal))
            .Select(l => l[TeamPrompts.TaskHeading.Length..].Trim())
            .ToList();
        var missing = lines.Count(l => !l.EndsWith(": done", StringComparison.Ordinal));
        var answer = $"The team's answer to \"{goal}\": " + string.Join(" ", lines.Select(l => l + ".")) +
            (missing == 0 ? " Every task was done." : $" {missing} of {lines.Count} tasks were not done, so their part is missing.");
        return Reply.Answer("Combining the results of every task.", answer);
    }

    private static string GoalOf(string input)
    {
        var line = input.Split('\n').FirstOrDefault(l => l.StartsWith(TeamPrompts.GoalLine, StringComparison.Ordinal));
        return line is null ? input : line[TeamPrompts.GoalLine.Length..].Trim();
    }

    private static Reply FirstTurn(string text, int turn, bool expert, bool asks)
    {
        var callId = $"call_{turn.ToString(CultureInfo.InvariantCulture)}";
        if (!expert && Echo().Match(text) is { Success: true } echo)
        {
            return Reply.Answer("The user wants these words back as they are.", echo.Groups[1].Value);
        }

        if (asks && AskMe().Match(text) is { Success: true } ask)
        {
            var question = ask.Groups[1].Value.Trim();
            return Reply.ToolCall("The user wants to be asked a question.", new FunctionCallContent(
                callId, ToolCatalog.AskHumanName, new Dictionary<string, object?> { ["question"] = question }));
        }

        if (!expert && UseTool().Match(text) is { Success: true } use)
        {
            var name = use.Groups[1].Value;
            var json = use.Groups[2].Success ? use.Groups[2].Value : "{}";
            Dictionary<string, object?>? arguments;
            try
            {
                arguments = JsonSerializer.Deserialize<Dictionary<string, object?>>(json, AIJsonUtilities.DefaultOptions);
            }
            catch (JsonException ex)
            {
                return Reply.Answer("The tool arguments are not valid JSON.", $"Tool {name} was not run: its arguments are not valid JSON ({ex.Message})");
            }

            return Reply.ToolCall($"The user asked for the tool {name}.", new FunctionCallContent(callId, name, arguments ?? []));
        }

        if (StreamWords().Match(text) is { Success: true } stream)
        {
            var count = int.TryParse(stream.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                ? Math.Min(n, MaxStreamWords)
                : MaxStreamWords;
            return new Reply("The user wants a stream of words.", null, StreamTokens(count));
        }

        if (ArithmeticIn(text) is { } expression)
        {
            return Reply.ToolCall("This is arithmetic; the calculator will evaluate it.", new FunctionCallContent(
                callId, ToolCatalog.CalculatorName, new Dictionary<string, object?> { ["expression"] = expression }));
        }

        var restated = text.Length > 200 ? string.Concat(text.AsSpan(0, 200), "...") : text;
        return Reply.Answer(
            "Nothing in the message asks for a tool; restating it.",
            $"You said: \"{restated}\". This answer comes from Conclave's builtin offline model. " +
            "To talk to a real model, set Conclave:Llm:Provider to openai, ollama or anthropic, with its Model, Endpoint and ApiKey.");
    }

    private static Reply AfterTool(string text, FunctionResultContent result)
    {
        var failed = result.Exception is not null;
        var value = failed ? result.Exception!.Message : ResultText(result.Result);
        if (AskMe().IsMatch(text))
        {
            return Reply.Answer("The user replied.", failed ? $"I could not ask you: {value}" : $"You answered: {value}");
        }

        if (UseTool().Match(text) is { Success: true } use)
        {
            var name = use.Groups[1].Value;
            return Reply.Answer($"The tool {name} is done.", failed ? $"Tool {name} was not run: {value}" : $"Tool {name} returned: {value}");
        }

        return Reply.Answer("The calculator is done.", failed ? $"The calculator could not evaluate it: {value}" : $"The answer is {value}.");
    }

    private static string ResultText(object? result) => result switch
    {
        null => string.Empty,
        string s => s,
        JsonElement { ValueKind: JsonValueKind.String } e => e.GetString() ?? string.Empty,
        JsonElement e => e.GetRawText(),
        _ => JsonSerializer.Serialize(result, AIJsonUtilities.DefaultOptions),
    };

    private static IEnumerable<string> StreamTokens(int count)
    {
        for (var i = 1; i <= count; i++)
        {
            yield return i == 1 ? "word1" : string.Create(CultureInfo.InvariantCulture, $" word{i}");
        }
    }

    private static IEnumerable<string> WordTokens(string answer)
    {
        var start = 0;
        while (start < answer.Length)
        {
            var next = answer.IndexOf(' ', start + 1);
            var end = next < 0 ? answer.Length : next;
            yield return answer[start..end];
            start = end;
        }
    }

    /// <summary>
    /// The arithmetic a message asks for: the whole message when it is an expression, else the longest stretch of
    /// expression characters in it that is one ("what is 12*(3+4)?" gives 12*(3+4)), without a sentence's full stop
    /// or a parenthesis the stretch does not close or open.
    /// </summary>
    private static string? ArithmeticIn(string text)
    {
        if (IsArithmetic(text))
        {
            return text;
        }

        string? found = null;
        foreach (var match in ArithmeticStretch().EnumerateMatches(text))
        {
            var stretch = text.AsSpan(match.Index, match.Length).Trim().TrimEnd('.').TrimEnd();
            while (stretch.Length > 0 && stretch[^1] == ')' && stretch.Count('(') < stretch.Count(')'))
            {
                stretch = stretch[..^1].TrimEnd();
            }

            while (stretch.Length > 0 && stretch[0] == '(' && stretch.Count('(') > stretch.Count(')'))
            {
                stretch = stretch[1..].TrimStart();
            }

            if (stretch.Length > (found?.Length ?? 0) && stretch.ToString() is var candidate && IsArithmetic(candidate))
            {
                found = candidate;
            }
        }

        return found;
    }

    private static bool IsArithmetic(string text) =>
        Arithmetic().IsMatch(text) && text.Any(char.IsAsciiDigit) && text.AsSpan(1).IndexOfAny("+-*/%^") >= 0;

    private static int CountWords(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;

    [GeneratedRegex(@"^echo:[ \t]*(.+)$", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex Echo();

    [GeneratedRegex(@"^ask me:\s*(.+)$", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex AskMe();

    [GeneratedRegex(@"^use tool\s+([A-Za-z0-9_.\-]+)\s*(\{.*\})?\s*$", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex UseTool();

    [GeneratedRegex(@"\bstream\s+(\d+)\s+words?\b", RegexOptions.IgnoreCase)]
    private static partial Regex StreamWords();

    [GeneratedRegex(@"^[\d\s.+\-*/%^()]+$")]
    private static partial Regex Arithmetic();

    [GeneratedRegex(@"[\d\s.+\-*/%^()]+")]
    private static partial Regex ArithmeticStretch();

    private sealed record Reply(string Thought, FunctionCallContent? Call, IEnumerable<string> Tokens)
    {
        public static Reply ToolCall(string thought, FunctionCallContent call) => new(thought, call, []);

        public static Reply Answer(string thought, string answer) => new(thought, null, WordTokens(answer));
    }
}
