using System.Diagnostics;
using Conclave.Agents.Models;
using Conclave.Agents.Tools;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Conclave.Agents.Tests.Models;

public sealed class BuiltinChatClientTests
{
    [Theory]
    [InlineData("stream 3 words")]
    [InlineData("ask me: what colour?")]
    [InlineData("use tool write_file {\"path\":\"a.txt\",\"content\":\"hi\"}")]
    [InlineData("12*(3+4)")]
    [InlineData("hello there")]
    public async Task EveryTurnStartsWithExactlyOneThinkingDelta(string message)
    {
        var updates = await StreamAsync(Model(), User(message));

        Assert.IsType<TextReasoningContent>(Assert.Single(updates[0].Contents));
        Assert.Single(updates.SelectMany(u => u.Contents).OfType<TextReasoningContent>());
    }

    [Fact]
    public async Task TheTurnAfterAToolResultAlsoStartsWithExactlyOneThinkingDelta()
    {
        var call = await CallAsync(Model(), User("12*(3+4)"));

        var updates = await StreamAsync(Model(), User("12*(3+4)"), Assistant(call), ToolResult(call, "84"));

        Assert.IsType<TextReasoningContent>(Assert.Single(updates[0].Contents));
        Assert.Single(updates.SelectMany(u => u.Contents).OfType<TextReasoningContent>());
    }

    [Fact]
    public async Task StreamFiveWordsStreamsOneWordPerUpdate()
    {
        var updates = await StreamAsync(Model(), User("stream 5 words"));

        var tokens = updates.Where(u => u.Contents.Any(c => c is TextContent)).Select(u => ((TextContent)Assert.Single(u.Contents)).Text);
        Assert.Equal(["word1", " word2", " word3", " word4", " word5"], tokens);
    }

    [Fact]
    public async Task EchoAnswersTheTextExactlyWithItsLinesAndMarkupInWordSizedTokens()
    {
        const string text = "# Title\n\n```js\nconst x = 1;\n```\n<img src=x onerror=alert(1)> use tool calculator stream 3 words";

        var updates = await StreamAsync(Model(), User("echo: " + text));

        var tokens = updates.SelectMany(u => u.Contents).OfType<TextContent>().Select(c => c.Text).ToList();
        Assert.Equal(text, string.Concat(tokens));
        Assert.True(tokens.Count > 5, "streamed as many tokens, not one");
        Assert.DoesNotContain(updates.SelectMany(u => u.Contents), c => c is FunctionCallContent);
    }

    [Fact]
    public async Task TheLastUpdateCarriesUsageAndFinishesWithStop()
    {
        var updates = await StreamAsync(Model(), User("stream 5 words"));

        var last = updates[^1];
        Assert.Equal(ChatFinishReason.Stop, last.FinishReason);
        var usage = Assert.IsType<UsageContent>(Assert.Single(last.Contents)).Details;
        Assert.Equal(5, usage.OutputTokenCount);
        Assert.Equal(3, usage.InputTokenCount);
        Assert.Equal(8, usage.TotalTokenCount);
    }

    [Fact]
    public async Task AskMeCallsAskHumanWithTheQuestion()
    {
        var updates = await StreamAsync(Model(), User("ask me: what colour?"));

        var call = Assert.Single(updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>());
        Assert.Equal(ToolCatalog.AskHumanName, call.Name);
        Assert.Equal("what colour?", call.Arguments?["question"]?.ToString());
        Assert.Equal(ChatFinishReason.ToolCalls, updates[^1].FinishReason);
        Assert.Empty(Answer(updates));
    }

    [Fact]
    public async Task AfterTheReplyItAnswersWithTheReply()
    {
        var call = await CallAsync(Model(), User("ask me: what colour?"));

        var updates = await StreamAsync(Model(), User("ask me: what colour?"), Assistant(call), ToolResult(call, "blue"));

        Assert.Equal("You answered: blue", Answer(updates));
        Assert.Equal(ChatFinishReason.Stop, updates[^1].FinishReason);
    }

    [Fact]
    public async Task UseToolCallsTheNamedToolWithTheJsonArguments()
    {
        const string message = """use tool write_file {"path":"a.txt","content":"hi"}""";

        var call = await CallAsync(Model(), User(message));

        Assert.Equal("write_file", call.Name);
        Assert.Equal(["content", "path"], call.Arguments!.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("a.txt", call.Arguments["path"]?.ToString());
        Assert.Equal("hi", call.Arguments["content"]?.ToString());
    }

    [Fact]
    public async Task UseToolWithoutJsonCallsTheToolWithNoArguments()
    {
        var call = await CallAsync(Model(), User("use tool list_files"));

        Assert.Equal("list_files", call.Name);
        Assert.Empty(call.Arguments!);
    }

    [Fact]
    public async Task AfterTheToolRanItSaysWhatTheToolReturned()
    {
        const string message = """use tool write_file {"path":"a.txt","content":"hi"}""";
        var call = await CallAsync(Model(), User(message));

        var updates = await StreamAsync(Model(), User(message), Assistant(call), ToolResult(call, "Wrote 2 bytes to a.txt."));

        Assert.Equal("Tool write_file returned: Wrote 2 bytes to a.txt.", Answer(updates));
    }

    [Fact]
    public async Task AfterTheToolWasDeniedItSaysTheToolWasNotRunAndWhy()
    {
        const string message = """use tool write_file {"path":"a.txt","content":"hi"}""";
        var call = await CallAsync(Model(), User(message));
        var denied = new FunctionResultContent(call.CallId, "Error: denied") { Exception = new ToolException("denied") };

        var updates = await StreamAsync(Model(), User(message), Assistant(call), new ChatMessage(ChatRole.Tool, [denied]));

        Assert.Equal("Tool write_file was not run: denied", Answer(updates));
    }

    [Fact]
    public async Task ArithmeticCallsTheCalculatorWithTheExpression()
    {
        var call = await CallAsync(Model(), User("12*(3+4)"));

        Assert.Equal(ToolCatalog.CalculatorName, call.Name);
        Assert.Equal("12*(3+4)", call.Arguments?["expression"]?.ToString());
    }

    [Fact]
    public async Task AfterTheCalculatorItGivesTheAnswer()
    {
        var call = await CallAsync(Model(), User("12*(3+4)"));

        var updates = await StreamAsync(Model(), User("12*(3+4)"), Assistant(call), ToolResult(call, "84"));

        Assert.Equal("The answer is 84.", Answer(updates));
    }

    [Fact]
    public async Task AnythingElseIsRestatedWithAPointerToARealModel()
    {
        var updates = await StreamAsync(Model(), User("What is the capital of France?"));

        var answer = Answer(updates);
        Assert.Contains("What is the capital of France?", answer, StringComparison.Ordinal);
        Assert.Contains("builtin offline model", answer, StringComparison.Ordinal);
        Assert.Contains("Conclave:Llm:Provider", answer, StringComparison.Ordinal);
        Assert.Empty(updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>());
    }

    [Fact]
    public async Task AnAnswerIsStreamedWordByWord()
    {
        var updates = await StreamAsync(Model(), User("hello there"));

        var tokens = updates.SelectMany(u => u.Contents).OfType<TextContent>().Select(t => t.Text).ToList();
        Assert.True(tokens.Count > 10);
        Assert.All(tokens.Skip(1), t => Assert.StartsWith(" ", t, StringComparison.Ordinal));
        Assert.All(tokens, t => Assert.DoesNotContain(' ', t.TrimStart()));
    }

    [Fact]
    public async Task TheNewestUserMessageDecides()
    {
        var updates = await StreamAsync(Model(), User("stream 2 words"), new ChatMessage(ChatRole.Assistant, "word1 word2"), User("stream 3 words"));

        Assert.Equal("word1 word2 word3", Answer(updates));
    }

    [Theory]
    [InlineData("use tool x {not json}")]
    [InlineData("use tool x {\"a\":}")]
    public async Task InvalidJsonArgumentsGetAnAnswerNotACall(string message)
    {
        var updates = await StreamAsync(Model(), User(message));

        Assert.Empty(updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>());
        Assert.StartsWith("Tool x was not run: its arguments are not valid JSON", Answer(updates), StringComparison.Ordinal);
        Assert.Equal(ChatFinishReason.Stop, updates[^1].FinishReason);
    }

    [Fact]
    public async Task AnUnclosedJsonObjectGetsAnAnswerNotACall()
    {
        var updates = await StreamAsync(Model(), User("use tool x {"));

        Assert.Empty(updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>());
        Assert.NotEmpty(Answer(updates));
    }

    [Fact]
    public async Task CancellingASlowStreamInterruptsTheWaitForTheNextToken()
    {
        // Ten minutes before each token: only a cancel that cuts the wait short ends this within the test's patience.
        var model = Model(tokenDelayMs: 600_000);
        using var cancel = new CancellationTokenSource();
        var tokens = 0;

        var streaming = Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var update in model.GetStreamingResponseAsync([User("stream 1000 words")], cancellationToken: cancel.Token))
            {
                tokens += update.Contents.Count(c => c is TextContent);
                await cancel.CancelAsync(); // at the thinking delta, which comes at once
            }
        });
        await streaming.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, tokens);
    }

    [Fact]
    public async Task EachTokenComesTheTokenDelayAfterTheOneBefore()
    {
        var time = new FakeTimeProvider();
        var model = new BuiltinChatClient(Options.Create(new BuiltinModelOptions { TokenDelayMs = 10 }), time);

        // Off the test framework's synchronization context, as in the server: a token is produced on the thread that
        // advances the clock, so it is there as soon as its delay has passed.
        await Task.Run(async () =>
        {
            await using var stream = model.GetStreamingResponseAsync([User("stream 3 words")]).GetAsyncEnumerator();
            Assert.True(await stream.MoveNextAsync()); // the thinking delta, at once

            for (var word = 1; word <= 3; word++)
            {
                var next = stream.MoveNextAsync();
                time.Advance(TimeSpan.FromMilliseconds(9));
                Assert.False(next.IsCompleted, $"word {word} came before its delay");

                time.Advance(TimeSpan.FromMilliseconds(1));
                Assert.True(next.IsCompleted, $"word {word} did not come at its delay");
                Assert.True(await next);
                Assert.IsType<TextContent>(Assert.Single(stream.Current.Contents));
            }
        });
    }

    [Fact]
    public async Task CancellingAStreamWithoutDelaysStopsAtTheNextToken()
    {
        using var cancel = new CancellationTokenSource();
        var tokens = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var update in Model().GetStreamingResponseAsync([User("stream 1000 words")], cancellationToken: cancel.Token))
            {
                if (update.Contents.Any(c => c is TextContent) && ++tokens == 3)
                {
                    await cancel.CancelAsync();
                }
            }
        });

        Assert.Equal(3, tokens);
    }

    [Fact]
    public void ItReportsBuiltinAsItsProviderAndModel()
    {
        var metadata = Assert.IsType<ChatClientMetadata>(Model().GetService(typeof(ChatClientMetadata)));

        Assert.Equal("builtin", metadata.ProviderName);
        Assert.Equal("builtin", metadata.DefaultModelId);
    }

    [Fact]
    public void GetServiceReturnsItselfAndNothingForKeysOrOtherTypes()
    {
        var model = Model();

        Assert.Same(model, model.GetService(typeof(IChatClient)));
        Assert.Null(model.GetService(typeof(ChatClientMetadata), serviceKey: "other"));
        Assert.Null(model.GetService(typeof(string)));
    }

    [Fact]
    public async Task GetResponseJoinsTheStreamedAnswer()
    {
        var response = await Model().GetResponseAsync([User("stream 3 words")]);

        Assert.Equal("word1 word2 word3", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
    }

    [Theory]
    [InlineData("what is 12*(3+4)?", "12*(3+4)")]
    [InlineData("What's (2 + 3) * 4, please", "(2 + 3) * 4")]
    [InlineData("(how much is 2+2)", "2+2")]
    [InlineData("Compute 1.5*2. Thanks!", "1.5*2")]
    [InlineData("is 7 more than 2^3 - 10 / 5?", "2^3 - 10 / 5")]
    public async Task ArithmeticInsideAQuestionGoesToTheCalculator(string message, string expression)
    {
        var call = await CallAsync(Model(), User(message));

        Assert.Equal(ToolCatalog.CalculatorName, call.Name);
        Assert.Equal(expression, call.Arguments?["expression"]?.ToString());
    }

    [Fact]
    public async Task AfterTheCalculatorAQuestionGetsTheAnswer()
    {
        var call = await CallAsync(Model(), User("what is 12*(3+4)?"));
        var result = ArithmeticEvaluator.Format(ArithmeticEvaluator.Evaluate(call.Arguments!["expression"]!.ToString()!));

        var updates = await StreamAsync(Model(), User("what is 12*(3+4)?"), Assistant(call), ToolResult(call, result));

        Assert.Equal("The answer is 84.", Answer(updates));
    }

    [Theory]
    [InlineData("echo: what is 1+1?")]
    [InlineData("ask me: what is 1+1?")]
    [InlineData("stream 3 words, then 1+1")]
    [InlineData("COVID-19 came in 2020")]
    [InlineData("version 3.12 is out")]
    public async Task EarlierRulesWinAndNumbersWithoutAnOperationAreNotArithmetic(string message)
    {
        var updates = await StreamAsync(Model(), User(message));

        Assert.DoesNotContain(updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>(), c => c.Name == ToolCatalog.CalculatorName);
    }

    private static BuiltinChatClient Model(int tokenDelayMs = 0) =>
        new(Options.Create(new BuiltinModelOptions { TokenDelayMs = tokenDelayMs }), TimeProvider.System);

    private static ChatMessage User(string text) => new(ChatRole.User, text);

    private static ChatMessage Assistant(FunctionCallContent call) => new(ChatRole.Assistant, [call]);

    private static ChatMessage ToolResult(FunctionCallContent call, string result) =>
        new(ChatRole.Tool, [new FunctionResultContent(call.CallId, result)]);

    private static async Task<List<ChatResponseUpdate>> StreamAsync(IChatClient model, params ChatMessage[] messages)
    {
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in model.GetStreamingResponseAsync(messages))
        {
            updates.Add(update);
        }

        return updates;
    }

    private static async Task<FunctionCallContent> CallAsync(IChatClient model, params ChatMessage[] messages) =>
        Assert.Single((await StreamAsync(model, messages)).SelectMany(u => u.Contents).OfType<FunctionCallContent>());

    private static string Answer(IEnumerable<ChatResponseUpdate> updates) =>
        string.Concat(updates.SelectMany(u => u.Contents).OfType<TextContent>().Select(t => t.Text));
}
