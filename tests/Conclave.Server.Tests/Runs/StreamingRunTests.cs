using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.Extensions.AI;

namespace Conclave.Server.Tests.Runs;

public sealed class StreamingRunTests
{
    [Fact]
    public async Task StreamedRunSendsThinkingThenTokensThenFinalAnswerWithGaplessIds()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);

        var frames = await socket.ChatAsync("stream 5 words");

        Assert.Equal(["thinking", "token", "token", "token", "token", "token", "final_answer"], frames.Select(f => f.Type()));
        Assert.Equal(Enumerable.Range(1, frames.Count).Select(i => (long)i), frames.Select(f => f.EventId()));
        var runId = frames[0].Str("run_id");
        Assert.False(string.IsNullOrEmpty(runId));
        Assert.All(frames, f => Assert.Equal(runId, f.Str("run_id")));
        Assert.All(frames, f => Assert.EndsWith("Z", f.Str("ts")));
        var final = frames[^1];
        Assert.Equal("word1 word2 word3 word4 word5", final.Str("content"));
        Assert.Equal(frames.Tokens(), final.Str("content"));
        Assert.Equal("stop", final.Str("finish_reason"));
        Assert.True(final.GetProperty("usage").GetProperty("output_tokens").GetInt64() >= 5);
        Assert.True(final.GetProperty("usage").GetProperty("input_tokens").GetInt64() > 0);
    }

    [Fact]
    public async Task HistoryAndEventsAreStoredBeforeTheTerminalEventIsSent()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);

        var frames = await socket.ChatAsync("stream 30 words");
        // Read straight after the terminal event arrived: it must all be there already.
        var messages = await server.Http.GetFromJsonAsync<JsonElement>($"/api/v1/sessions/{session}/messages");
        var events = await server.Http.GetFromJsonAsync<JsonElement>($"/api/v1/sessions/{session}/events?after=0");

        Assert.Equal(2, messages.GetArrayLength());
        Assert.Equal("user", messages[0].Str("role"));
        Assert.Equal("stream 30 words", messages[0].Str("content"));
        Assert.Equal("assistant", messages[1].Str("role"));
        Assert.Equal(frames[^1].Str("content"), messages[1].Str("content"));
        Assert.Equal(frames[^1].Str("run_id"), messages[1].Str("run_id"));
        Assert.Equal(frames.Select(f => f.GetRawText()), events.EnumerateArray().Select(e => e.GetRawText()));
    }

    [Fact]
    public async Task SecondRunContinuesTheSessionsEventIdsAndSeesTheHistory()
    {
        var model = new ScriptedChatClient((messages, _, _) =>
            ScriptedChatClient.Answer($"{messages.Count(m => m.Role == Microsoft.Extensions.AI.ChatRole.User)} user messages"));
        await using var server = await ConclaveTestServer.StartAsync(model: model);
        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);

        var first = await socket.ChatAsync("one");
        var second = await socket.ChatAsync("two");

        Assert.Equal(first[^1].EventId() + 1, second[0].EventId());
        Assert.NotEqual(first[0].Str("run_id"), second[0].Str("run_id"));
        Assert.Equal("2 user messages", second[^1].Str("content"));
        var lastCall = model.Calls[^1].Messages;
        Assert.Equal(Microsoft.Extensions.AI.ChatRole.System, lastCall[0].Role);
        Assert.Equal(["one", "1 user messages", "two"], lastCall.Skip(1).Select(m => m.Text));
    }

    [Fact]
    public async Task TheTurnThatCallsAToolReachesTheModelAgainWithItsWholeTextReasoningAndCall()
    {
        var model = new ScriptedChatClient((messages, _, _) => messages[^1].Role == ChatRole.Tool
            ? ScriptedChatClient.Answer("done")
            : ToolTurn());
        await using var server = await ConclaveTestServer.StartAsync(model: model);
        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);

        var frames = await socket.ChatAsync("add them");

        Assert.Equal("Let me add 1 and 2.done", frames[^1].Str("content"));
        var reply = model.Calls[^1].Messages[^2];
        Assert.Equal(ChatRole.Assistant, reply.Role);
        Assert.Equal("Let me add 1 and 2.", reply.Text);
        Assert.Equal("adding", string.Concat(reply.Contents.OfType<TextReasoningContent>().Select(r => r.Text)));
        var call = Assert.Single(reply.Contents.OfType<FunctionCallContent>());
        Assert.Equal("calculator", call.Name);
        Assert.Equal("3", model.Calls[^1].Messages[^1].Contents.OfType<FunctionResultContent>().Single().Result?.ToString());

        static async IAsyncEnumerable<ChatResponseUpdate> ToolTurn()
        {
            await Task.Yield();

            // Text on both sides of the reasoning: two runs of text, each kept as one piece of the reply.
            yield return new ChatResponseUpdate(ChatRole.Assistant, "Let ") { MessageId = "m1" };
            yield return new ChatResponseUpdate(ChatRole.Assistant, [new TextReasoningContent("add")]) { MessageId = "m1" };
            yield return new ChatResponseUpdate(ChatRole.Assistant, [new TextReasoningContent("ing")]) { MessageId = "m1" };
            foreach (var token in new[] { "me ", "add ", "1 ", "and ", "2." })
            {
                yield return new ChatResponseUpdate(ChatRole.Assistant, token) { MessageId = "m1" };
            }

            yield return new ChatResponseUpdate(ChatRole.Assistant, [new FunctionCallContent("call_1", "calculator", new Dictionary<string, object?> { ["expression"] = "1+2" })])
            {
                MessageId = "m1",
                FinishReason = ChatFinishReason.ToolCalls,
            };
        }
    }

    [Fact]
    public async Task MessageDuringARunGetsRunInProgressAndTheRunGoesOn()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);

        await socket.SendAsync(new { type = "message", content = "stream 50 words" });
        await socket.ReceiveTypeAsync("token");
        await socket.SendAsync(new { type = "message", content = "another" });
        var frames = await socket.ReceiveRunEndAsync();

        var rejection = Assert.Single(frames, f => f.Str("code") == "run_in_progress");
        Assert.False(rejection.TryGetProperty("event_id", out _));
        Assert.Equal("final_answer", frames[^1].Type());
        Assert.Equal(string.Join(' ', Enumerable.Range(1, 50).Select(i => $"word{i}")), frames[^1].Str("content"));
    }

    [Fact]
    public async Task DefaultAnswerRestatesTheMessageAndNamesTheOfflineModel()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("Hello, this is a test");

        var content = frames[^1].Str("content")!;
        Assert.Contains("Hello, this is a test", content, StringComparison.Ordinal);
        Assert.Contains("offline", content, StringComparison.Ordinal);
        Assert.Contains("Conclave:Llm:Provider", content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ArithmeticIsAnsweredThroughTheCalculatorStep()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("12*(3+4)");

        var steps = frames.Where(f => f.Type() == "step").ToList();
        Assert.Equal(["start", "end"], steps.Select(s => s.Str("phase")));
        Assert.All(steps, s => Assert.Equal(1, s.GetProperty("step").GetInt32()));
        Assert.All(steps, s => Assert.Equal("calculator", s.Str("tool")));
        Assert.Equal("12*(3+4)", steps[0].GetProperty("arguments").Str("expression"));
        Assert.Equal("84", steps[1].Str("result"));
        Assert.Equal("The answer is 84.", frames[^1].Str("content"));
    }
}
