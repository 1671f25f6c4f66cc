using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json;
using Conclave.Agents.Events;
using Conclave.Agents.Models;
using Conclave.Agents.Tools;
using Microsoft.Extensions.AI;

namespace Conclave.Agents.Runs;

/// <summary>The answer an agent loop ended with.</summary>
/// <param name="Content">The whole answer: every token streamed, in order.</param>
/// <param name="FinishReason">Why the model stopped.</param>
public sealed record AgentAnswer(string Content, string FinishReason);

/// <summary>
/// The agent's own tool loop: streams a model turn (reasoning → <c>thinking</c>, text → <c>token</c>),
/// runs the tools it called (each a <c>step</c>, held at the confirmation gate when it needs approval),
/// hands the results back, and repeats until the model answers without calling a tool.
/// </summary>
public sealed class AgentLoop(IChatClient model, IRunStore store, ConfirmationGate gate, TokenCounter tokens, int maxSteps)
{
    private static readonly JsonSerializerOptions RepairingOptions = JsonText.Repairing(AIJsonUtilities.DefaultOptions);

    /// <summary>Runs the loop over <paramref name="messages"/>, which it extends with the turns it makes.</summary>
    public async Task<AgentAnswer> RunAsync(
        AgentOutput output,
        List<ChatMessage> messages,
        IReadOnlyList<AgentTool> tools,
        ToolContext toolContext,
        CancellationToken cancellationToken,
        ChatOptions? baseOptions = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(messages);
        var byName = tools.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var options = baseOptions?.Clone() ?? new ChatOptions();
        if (tools.Count > 0)
        {
            options.Tools = [.. tools.Select(t => t.Function)];
            options.ToolMode = ChatToolMode.Auto;
        }

        var answer = new StringBuilder();
        var steps = 0;
        while (true)
        {
            var (turn, finishReason) = await StreamTurnAsync(output, messages, options, answer, cancellationToken);

            // Kept after every turn, so that a run whose process dies reports what it had used.
            await store.RecordUsageAsync(output.Run.Id, output.Run.Usage, output.Run.LastEventId, CancellationToken.None);
            var updates = turn.ToList();
            var calls = updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>().ToList();
            if (calls.Count == 0)
            {
                return new AgentAnswer(answer.ToString(), finishReason?.Value ?? ChatFinishReason.Stop.Value);
            }

            messages.AddMessages(updates);
            var results = new List<AIContent>(calls.Count);
            foreach (var call in calls)
            {
                if (++steps > maxSteps)
                {
                    throw new ToolStepLimitException(maxSteps);
                }

                results.Add(await RunToolAsync(output, steps, call, byName, toolContext, cancellationToken));
            }

            messages.Add(new ChatMessage(ChatRole.Tool, results));
        }
    }

    private async Task<(TurnUpdates Updates, ChatFinishReason? FinishReason)> StreamTurnAsync(
        AgentOutput output, List<ChatMessage> messages, ChatOptions options, StringBuilder answer, CancellationToken cancellationToken)
    {
        var updates = new TurnUpdates();
        ChatFinishReason? finishReason = null;
        var pieces = 0;
        var counted = false;
        try
        {
            await using var stream = model.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
            while (true)
            {
                ChatResponseUpdate update;
                try
                {
                    if (!await stream.MoveNextAsync())
                    {
                        return (updates, finishReason);
                    }

                    update = stream.Current;
                }
                catch (Exception ex)
                {
                    throw ModelException.From(ex, cancellationToken);
                }

                updates.Add(update);
                finishReason = update.FinishReason ?? finishReason;
                // By index: the contents are an IList, whose enumerator would be boxed for every update.
                var contents = update.Contents;
                for (var i = 0; i < contents.Count; i++)
                {
                    switch (contents[i])
                    {
                        case TextReasoningContent { Text.Length: > 0 } reasoning:
                            pieces++;
                            await output.ThinkingAsync(reasoning.Text);
                            break;
                        case TextContent { Text.Length: > 0 } text:
                            pieces++;
                            answer.Append(text.Text);
                            await output.TokenAsync(text.Text);
                            break;
                        case UsageContent usage:
                            counted = true;
                            output.Run.AddUsage(new Usage(usage.Details.InputTokenCount ?? 0, usage.Details.OutputTokenCount ?? 0));
                            break;
                    }
                }
            }
        }
        finally
        {
            // A turn the provider did not count (it was cancelled or failed first, or the provider reports no usage)
            // still used tokens: they are counted here.
            if (!counted)
            {
                output.Run.AddUsage(tokens.Estimate(messages, pieces));
            }
        }
    }

    private async Task<FunctionResultContent> RunToolAsync(
        AgentOutput output, int step, FunctionCallContent call, Dictionary<string, AgentTool> tools, ToolContext toolContext, CancellationToken cancellationToken)
    {
        var run = output.Run;
        var (arguments, validText) = ArgumentsJson(call.Arguments);
        if (!validText)
        {
            // The call stays in the conversation, which the provider writes out with the next request: repaired.
            call.Arguments = arguments.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value, StringComparer.Ordinal);
        }

        await output.StepStartedAsync(step, call.Name, arguments);

        object? result = null;
        string? error = null;
        Exception? stop = null;
        var invoked = false;
        try
        {
            if (call.Exception is not null)
            {
                error = $"the arguments could not be read: {call.Exception.Message}";
            }
            else if (!validText)
            {
                error = "the arguments hold text that is not valid Unicode (an unpaired surrogate escape)";
            }
            else if (!tools.TryGetValue(call.Name, out var tool))
            {
                error = $"no tool named '{call.Name}' is available to this run";
            }
            else
            {
                if (tool.RequiresConfirmation)
                {
                    var decision = await gate.RequestAsync(run, tool, arguments, output.Scope, cancellationToken);
                    error = decision.Approved ? null : decision.Reason;
                }

                if (error is null)
                {
                    // An approval that came as the run was stopped is recorded, but the tool does not run.
                    cancellationToken.ThrowIfCancellationRequested();
                    invoked = true;
                    (result, error) = await InvokeAsync(tool, call, toolContext, cancellationToken);
                }
            }
        }
        catch (Exception ex) when (EndsRun(ex, cancellationToken))
        {
            // The run ends, but only once its record says what became of this call. A tool that gives up on a stop
            // has had no effect (write_file replaces a file in one move, after which it no longer stops).
            stop = ex;
            var stopped = run.StopToken.IsCancellationRequested ? "the run was stopped" : "the task ran out of time";
            error = ex is AskHumanTimeoutException ? ex.Message
                : invoked ? $"{stopped} while the tool ran"
                : $"{stopped} before the tool ran";
        }

        var resultJson = error is null ? JsonSerializer.SerializeToElement(result, AIJsonUtilities.DefaultOptions) : (JsonElement?)null;
        await output.StepEndedAsync(step, call.Name, arguments, resultJson, error);
        var recorded = error is null ? ResultText(resultJson!.Value) : $"not run: {error}";
        await store.AppendMessageAsync(run.SessionId, run.Id, new HistoryMessage(HistoryMessage.ToolRole, recorded, call.Name), CancellationToken.None);
        if (stop is not null)
        {
            ExceptionDispatchInfo.Throw(stop);
        }

        return error is null
            ? new FunctionResultContent(call.CallId, result)
            : new FunctionResultContent(call.CallId, $"Error: {error}") { Exception = new ToolException(error) };
    }

    /// <summary>Runs a tool; a failure is an error the model reads, and only a stop or an unanswered question is thrown.</summary>
    private static async Task<(object? Result, string? Error)> InvokeAsync(AgentTool tool, FunctionCallContent call, ToolContext toolContext, CancellationToken cancellationToken)
    {
        try
        {
            var callArguments = new AIFunctionArguments(call.Arguments)
            {
                Context = new Dictionary<object, object?> { [typeof(ToolContext)] = toolContext },
            };
            return (await tool.Function.InvokeAsync(callArguments, cancellationToken), null);
        }
        catch (Exception ex) when (!EndsRun(ex, cancellationToken))
        {
            return (null, ex is ToolException or ArgumentException or JsonException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}");
        }
    }

    /// <summary>The call's arguments as JSON, and whether their text was valid (else it is shown repaired).</summary>
    private static (JsonElement Arguments, bool ValidText) ArgumentsJson(IDictionary<string, object?>? arguments)
    {
        arguments ??= new Dictionary<string, object?>();
        try
        {
            return (JsonSerializer.SerializeToElement(arguments, AIJsonUtilities.DefaultOptions), true);
        }
        catch (JsonException)
        {
            // A value parsed from the model's JSON escapes a lone surrogate, which only a repaired copy can show.
            return (JsonSerializer.SerializeToElement(arguments, RepairingOptions), false);
        }
    }

    // A stop or an unanswered question ends the run; any other failure of a tool is a result the model reads.
    private static bool EndsRun(Exception ex, CancellationToken cancellationToken) =>
        ex is AskHumanTimeoutException || (ex is OperationCanceledException && cancellationToken.IsCancellationRequested);

    private static string ResultText(JsonElement result) =>
        result.ValueKind == JsonValueKind.String ? result.GetString() ?? string.Empty : result.GetRawText();

    /// <summary>
    /// A turn's updates, kept for the reply message a tool call needs. A long answer is a stream of small text updates,
    /// so runs of them are kept as one update of their text rather than an object each.
    /// </summary>
    private sealed class TurnUpdates
    {
        private readonly List<ChatResponseUpdate> _kept = [];
        private readonly StringBuilder _text = new();
        private ChatResponseUpdate? _textStart;

        public void Add(ChatResponseUpdate update)
        {
            if (IsPlainText(update) && (_textStart is null || _textStart.MessageId == update.MessageId))
            {
                _textStart ??= update;
                _text.Append(((TextContent)update.Contents[0]).Text);
                return;
            }

            EndText();
            if (IsPlainText(update))
            {
                Add(update);
                return;
            }

            _kept.Add(update);
        }

        public List<ChatResponseUpdate> ToList()
        {
            EndText();
            return _kept;
        }

        private static bool IsPlainText(ChatResponseUpdate update) =>
            update is { FinishReason: null, AdditionalProperties: null, Contents: [TextContent { Annotations: null, AdditionalProperties: null }] };

        private void EndText()
        {
            if (_textStart is null)
            {
                return;
            }

            _kept.Add(new ChatResponseUpdate(_textStart.Role, _text.ToString())
            {
                MessageId = _textStart.MessageId,
                ResponseId = _textStart.ResponseId,
                ConversationId = _textStart.ConversationId,
                ModelId = _textStart.ModelId,
                AuthorName = _textStart.AuthorName,
                CreatedAt = _textStart.CreatedAt,
            });
            _text.Clear();
            _textStart = null;
        }
    }
}
