using System.Runtime.CompilerServices;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.Extensions.AI;

namespace Conclave.Server.Tests.Runs;

public sealed class ModelFailureTests
{
    [Fact]
    public async Task ModelFailureAfterTokensEndsTheRunWithLlmErrorAndUsage()
    {
        var model = new ScriptedChatClient((_, _, ct) => FailAfterTokens(ct));
        await using var server = await ConclaveTestServer.StartAsync(model: model);
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("hello");

        var error = frames[^1];
        Assert.Equal("error", error.Type());
        Assert.Equal("llm_error", error.Str("code"));
        Assert.True(error.GetProperty("retryable").GetBoolean());
        Assert.Equal(7, error.GetProperty("usage").GetProperty("input_tokens").GetInt64());
        Assert.Equal("partial", frames.Tokens());
    }

    [Fact]
    public async Task ModelThatKeepsCallingToolsEndsWithToolErrorAtTheStepLimit()
    {
        var model = new ScriptedChatClient((messages, _, _) => CallCalculator(messages.Count));
        await using var server = await ConclaveTestServer.StartAsync(
            new Dictionary<string, string?> { ["Conclave:Agent:MaxSteps"] = "3" }, model: model);
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("loop forever");

        Assert.Equal("tool_error", frames[^1].Str("code"));
        Assert.Equal(3, frames.Count(f => f.Type() == "step" && f.Str("phase") == "end"));
    }

    [Fact]
    public async Task ToolFailureIsToldToTheModelAndTheRunGoesOn()
    {
        var model = new ScriptedChatClient((messages, _, _) =>
            messages[^1].Contents.OfType<FunctionResultContent>().FirstOrDefault() is { } result
                ? ScriptedChatClient.Answer($"failed: {result.Exception?.Message}")
                : Call("calculator", new Dictionary<string, object?> { ["expression"] = "1/0" }));
        await using var server = await ConclaveTestServer.StartAsync(model: model);
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("divide");

        var end = Assert.Single(frames, f => f.Type() == "step" && f.Str("phase") == "end");
        Assert.Equal("Division by zero.", end.Str("error"));
        Assert.False(end.TryGetProperty("result", out _));
        Assert.Equal("final_answer", frames[^1].Type());
        Assert.Equal("failed: Division by zero.", frames[^1].Str("content"));
    }

    [Fact]
    public async Task UnknownToolIsAStepErrorNotACrash()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("use tool teleport {\"to\": \"mars\"}");

        var end = Assert.Single(frames, f => f.Type() == "step" && f.Str("phase") == "end");
        Assert.Contains("teleport", end.Str("error"), StringComparison.Ordinal);
        Assert.StartsWith("Tool teleport was not run:", frames[^1].Str("content"), StringComparison.Ordinal);
    }

    private static async IAsyncEnumerable<ChatResponseUpdate> FailAfterTokens([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(new UsageDetails { InputTokenCount = 7 })]);
        yield return ScriptedChatClient.Text("partial");
        cancellationToken.ThrowIfCancellationRequested();
        throw new HttpRequestException("connection reset");
    }

    private static IAsyncEnumerable<ChatResponseUpdate> CallCalculator(int turn) =>
        Call("calculator", new Dictionary<string, object?> { ["expression"] = $"{turn}+1" });

    internal static async IAsyncEnumerable<ChatResponseUpdate> Call(string tool, Dictionary<string, object?> arguments)
    {
        await Task.Yield();
        yield return new ChatResponseUpdate(ChatRole.Assistant, [new FunctionCallContent($"call_{Guid.NewGuid():N}", tool, arguments)]);
    }
}
