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
public sealed class AgentLoop(IChatClient model, IRunStore store, ConfirmationGate gate, TokenCounter tokens, AgentOptions agent)
{
    private static readonly JsonSerializerOptions RepairingOptions = JsonText.Repairing(AIJsonUtilities.DefaultOptions);

    /// <summary>
    /// Runs the loop over <paramref name="messages"/>, which it extends with the turns it makes. With
    /// <paramref name="durable"/>, a wait on a person is stored with what the loop needs to go on after a restart.
    /// </summary>
    public Task<AgentAnswer> RunAsync(
        AgentOutput output,
        List<ChatMessage> messages,
        IReadOnlyList<AgentTool> tools,
        ToolContext toolContext,
        CancellationToken cancellationToken,
        ChatOptions? baseOptions = null,
        DurableWaits? durable = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(messages);
        return LoopAsync(new Loop(output, messages, new StringBuilder(), tools, toolContext, baseOptions, durable), steps: 0, cancellationToken);
    }

    /// <summary>
    /// Goes on with a loop a previous process left waiting on a person: first the call that waited, with the answer that
    /// comes to <paramref name="wait"/>, then the rest of its turn, then the loop as usual.
    /// </summary>
    public async Task<AgentAnswer> ResumeAsync(
        AgentOutput output,
        AgentCheckpoint checkpoint,
        RestoredWait wait,
        IReadOnlyList<AgentTool> tools,
        ToolContext toolContext,
        CancellationToken cancellationToken,
        ChatOptions? baseOptions = null,
        DurableWaits? durable = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(checkpoint);
        var loop = new Loop(output, checkpoint.Messages, new StringBuilder(checkpoint.Answer), tools, toolContext, baseOptions, durable);
        var turn = new Turn(checkpoint.Calls, checkpoint.Results);
        var steps = checkpoint.Steps;
        turn.Results.Add(await RunToolAsync(loop, turn, checkpoint.Index, steps, wait, cancellationToken));
        await RunCallsAsync(loop, turn, checkpoint.Index + 1, steps, cancellationToken);
        return await LoopAsync(loop, steps + (turn.Calls.Count - checkpoint.Index - 1), cancellationToken);
    }

    private async Task<AgentAnswer> LoopAsync(Loop loop, int steps, CancellationToken cancellationToken)
    {
        var output = loop.Output;
        while (true)
        {
            var (updates, finishReason) = await StreamTurnAsync(output, loop.Messages, loop.Options, loop.Answer, cancellationToken);
            var calls = updates.Calls();
            if (calls.Count == 0)
            {
                // The answer's terminal event carries the usage from here.
                return new AgentAnswer(loop.Answer.ToString(), finishReason?.Value ?? ChatFinishReason.Stop.Value);
            }

            // Kept after every turn that another follows, so that a run whose process dies reports what it had used.
            await store.RecordUsageAsync(output.Run.Id, output.Run.Usage, output.Run.LastEventId, CancellationToken.None);

            loop.Messages.AddMessages(updates.ToList());
            var turn = new Turn(calls, new List<AIContent>(calls.Count));
            await RunCallsAsync(loop, turn, 0, steps, cancellationToken);
            steps += calls.Count;
        }
    }

    /// <summary>Runs the turn's calls from <paramref name="first"/> on, then hands their results to the conversation.</summary>
    private async Task RunCallsAsync(Loop loop, Turn turn, int first, int steps, CancellationToken cancellationToken)
    {
        for (var i = first; i < turn.Calls.Count; i++)
        {
            var step = steps + (i - first) + 1;
            if (step > agent.MaxSteps)
            {
                throw new ToolStepLimitException(agent.MaxSteps);
            }

            turn.Results.Add(await RunToolAsync(loop, turn, i, step, null, cancellationToken));
        }

        loop.Messages.Add(new ChatMessage(ChatRole.Tool, turn.Results));
    }

    private async Task<(TurnUpdates Updates, ChatFinishReason? FinishReason)> StreamTurnAsync(
        AgentOutput output, List<ChatMessage> messages, ChatOptions options, StringBuilder answer, CancellationToken cancellationToken)
    {
        var updates = new TurnUpdates(answer);
        var text = new StreamedText(output, agent.MaxMergedDeltaChars);
        ChatFinishReason? finishReason = null;
        var pieces = 0;
        var counted = false;
        try
        {
            await using var stream = model.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
            while (true)
            {
                ValueTask<bool> next;
                try
                {
                    next = stream.MoveNextAsync();
                }
                catch (Exception ex)
                {
                    throw ModelException.From(ex, cancellationToken);
                }

                if (!next.IsCompleted)
                {
                    // What the model had ready goes out before the loop waits for more.
                    await text.FlushAsync();
                }

                bool more;
                Exception? failure = null;
                try
                {
                    more = await next;
                }
                catch (Exception ex)
                {
                    more = false;
                    failure = ModelException.From(ex, cancellationToken);
                }

                if (!more)
                {
                    // The pieces the model gave before it ended, or failed, are sent as they would have been one by one.
                    await text.FlushAsync();
                    if (failure is not null)
                    {
                        ExceptionDispatchInfo.Throw(failure);
                    }

                    return (updates, finishReason);
                }

                var update = stream.Current;

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
                            await text.AddReasoningAsync(reasoning.Text);
                            break;
                        case TextContent { Text.Length: > 0 } piece:
                            pieces++;
                            answer.Append(piece.Text);
                            await text.AddAnswerAsync(piece.Text);
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

    /// <summary>
    /// One tool call as a <c>step</c>: held at the confirmation gate when the tool needs approval (or, when
    /// <paramref name="restored"/>, at the wait a previous process left), then run; its end and history entry are
    /// recorded however it went, unless the run is suspended for a restart.
    /// </summary>
    private async Task<FunctionResultContent> RunToolAsync(
        Loop loop, Turn turn, int index, int step, RestoredWait? restored, CancellationToken cancellationToken)
    {
        var output = loop.Output;
        var run = output.Run;
        var call = turn.Calls[index];
        var (arguments, validText) = ArgumentsJson(call.Arguments);
        if (!validText)
        {
            // The call stays in the conversation, which the provider writes out with the next request: repaired.
            call.Arguments = arguments.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value, StringComparer.Ordinal);
        }

        // Events and the history name the tool as the catalog does, whichever of its names the model called it by.
        var found = loop.TryGetTool(call.Name, out var tool);
        var toolName = found ? tool.Name : call.Name;
        if (restored is null)
        {
            await output.StepStartedAsync(step, toolName, arguments);
        }

        object? result = null;
        string? error = null;
        Exception? stop = null;
        var invoked = false;
        var durable = loop.Durable;
        if (durable is not null)
        {
            run.OnWaiting(output.Scope, opened => durable.SaveAsync(run, opened, () => Checkpoint(loop, turn, index, step)));
        }

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
            else if (!found)
            {
                error = $"no tool named '{call.Name}' is available to this run";
            }
            else if (restored is { Kind: RequestKind.Question })
            {
                // The waiting call is ask_human itself: its reply is the tool's result, as the tool would give it.
                invoked = true;
                var reply = await run.ResumeAskAsync(restored.RequestId, restored.Answer, restored.ExpiresAt, cancellationToken);
                result = JsonSerializer.SerializeToElement(reply, AIJsonUtilities.DefaultOptions);
            }
            else
            {
                // Once decided, the wait no longer needs to outlive the process: it goes before the decision is sent (a
                // restart from there must neither ask again nor run the tool twice).
                Func<Task>? decided = durable is null ? null : () => durable.EndAsync(run);
                var decision = restored is not null ? await gate.ResumeAsync(run, restored, output.Scope, decided, cancellationToken)
                    : tool.RequiresConfirmation ? await gate.RequestAsync(run, tool, arguments, output.Scope, decided, cancellationToken)
                    : null;
                error = decision is { Approved: false } ? decision.Reason : null;

                if (error is null)
                {
                    // An approval that came as the run was stopped is recorded, but the tool does not run.
                    cancellationToken.ThrowIfCancellationRequested();
                    invoked = true;
                    (result, error) = await InvokeAsync(tool, call, loop.ToolContext, cancellationToken);
                }
            }
        }
        catch (Exception ex) when (EndsRun(ex, cancellationToken) && run.StopReason is not (StopReason.Suspended or StopReason.TakenOver))
        {
            // The run ends, but only once its record says what became of this call. A tool that gives up on a stop
            // has had no effect (write_file replaces a file in one move, after which it no longer stops).
            stop = ex;
            var stopped = run.StopToken.IsCancellationRequested ? "the run was stopped" : "the task ran out of time";
            error = ex is AskHumanTimeoutException ? ex.Message
                : invoked ? $"{stopped} while the tool ran"
                : $"{stopped} before the tool ran";
        }
        finally
        {
            run.OnWaiting(output.Scope, null);
        }

        if (durable is not null)
        {
            // The wait is over (answered, expired, or the run is ending): it no longer needs to outlive the process.
            await durable.EndAsync(run);
        }

        var resultJson = error is null ? JsonSerializer.SerializeToElement(result, AIJsonUtilities.DefaultOptions) : (JsonElement?)null;
        await output.StepEndedAsync(step, toolName, arguments, resultJson, error);
        var recorded = error is null ? ResultText(resultJson!.Value) : $"not run: {error}";
        await store.AppendMessageAsync(run.SessionId, run.Id, new HistoryMessage(HistoryMessage.ToolRole, recorded, toolName), CancellationToken.None);
        if (stop is not null)
        {
            ExceptionDispatchInfo.Throw(stop);
        }

        return error is null
            ? new FunctionResultContent(call.CallId, result)
            : new FunctionResultContent(call.CallId, $"Error: {error}") { Exception = new ToolException(error) };
    }

    private static AgentCheckpoint Checkpoint(Loop loop, Turn turn, int index, int step) => new()
    {
        Messages = loop.Messages,
        Answer = loop.Answer.ToString(),
        Steps = step,
        Calls = turn.Calls,
        Index = index,
        Results = turn.Results,
        Tools = loop.Durable?.ToolNames,
        ModelId = loop.Options.ModelId,
        Skill = loop.Durable?.SkillName,
    };

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

    /// <summary>What a loop works with: its output, the conversation, the answer so far, its tools and options.</summary>
    private sealed class Loop
    {
        public Loop(
            AgentOutput output, List<ChatMessage> messages, StringBuilder answer, IReadOnlyList<AgentTool> tools, ToolContext toolContext,
            ChatOptions? baseOptions, DurableWaits? durable)
        {
            Output = output;
            Messages = messages;
            Answer = answer;
            _tools = new Dictionary<string, AgentTool>(tools.Count * 2, StringComparer.Ordinal);
            foreach (var tool in tools)
            {
                _tools.TryAdd(tool.Name, tool);
            }

            foreach (var tool in tools)
            {
                _tools.TryAdd(tool.ModelFunction.Name, tool);
            }

            ToolContext = toolContext;
            Durable = durable;
            Options = baseOptions?.Clone() ?? new ChatOptions();
            if (tools.Count > 0)
            {
                Options.Tools = [.. tools.Select(t => t.ModelFunction)];
                Options.ToolMode = ChatToolMode.Auto;
            }
        }

        public AgentOutput Output { get; }

        public List<ChatMessage> Messages { get; }

        public StringBuilder Answer { get; }

        // The loop's tools by name, and by the name the model is offered where that differs.
        private readonly Dictionary<string, AgentTool> _tools;

        public bool TryGetTool(string name, out AgentTool tool) => _tools.TryGetValue(name, out tool!);

        public ToolContext ToolContext { get; }

        public ChatOptions Options { get; }

        public DurableWaits? Durable { get; }
    }

    /// <summary>The calls of one model turn and the results of those run so far.</summary>
    private sealed record Turn(List<FunctionCallContent> Calls, List<AIContent> Results);

    /// <summary>
    /// A turn's updates, kept for the reply message a tool call needs. A long answer is a stream of small text updates,
    /// so runs of them are kept as the range of the answer they added (the answer holds every token's text in order)
    /// rather than an object each, and made one update of their text only when the reply message is built.
    /// </summary>
    private sealed class TurnUpdates(StringBuilder answer)
    {
        private readonly List<(ChatResponseUpdate Update, (int From, int Length)? Text)> _kept = [];
        private ChatResponseUpdate? _textStart;
        private int _textFrom;

        /// <summary>Keeps an update; called before its text is added to the answer.</summary>
        public void Add(ChatResponseUpdate update)
        {
            if (IsPlainText(update) && (_textStart is null || _textStart.MessageId == update.MessageId))
            {
                if (_textStart is null)
                {
                    _textStart = update;
                    _textFrom = answer.Length;
                }

                return;
            }

            EndText();
            if (IsPlainText(update))
            {
                Add(update);
                return;
            }

            _kept.Add((update, null));
        }

        /// <summary>The tool calls the turn made, in order.</summary>
        public List<FunctionCallContent> Calls() =>
            _kept.Where(k => k.Text is null).SelectMany(k => k.Update.Contents).OfType<FunctionCallContent>().ToList();

        /// <summary>The turn's updates, each run of plain text as one update of its text.</summary>
        public List<ChatResponseUpdate> ToList()
        {
            EndText();
            return _kept.Select(k => k.Text is { } text ? Merged(k.Update, answer.ToString(text.From, text.Length)) : k.Update).ToList();
        }

        private static bool IsPlainText(ChatResponseUpdate update) =>
            update is { FinishReason: null, AdditionalProperties: null, Contents: [TextContent { Annotations: null, AdditionalProperties: null }] };

        private static ChatResponseUpdate Merged(ChatResponseUpdate first, string text) => new(first.Role, text)
        {
            MessageId = first.MessageId,
            ResponseId = first.ResponseId,
            ConversationId = first.ConversationId,
            ModelId = first.ModelId,
            AuthorName = first.AuthorName,
            CreatedAt = first.CreatedAt,
        };

        private void EndText()
        {
            if (_textStart is null)
            {
                return;
            }

            _kept.Add((_textStart, (_textFrom, answer.Length - _textFrom)));
            _textStart = null;
        }
    }
}
