using System.Runtime.CompilerServices;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.Extensions.AI;

namespace Conclave.Server.Tests.Runs;

/// <summary>
/// Pieces of text the model has ready one after another go out as one delta (<c>Conclave:Agent:MaxMergedDeltaChars</c>);
/// a piece the model takes time over is never waited for.
/// </summary>
public sealed class MergedDeltaTests
{
    [Fact]
    public async Task PiecesTheModelHadReadyGoOutAsOneDeltaOfEachKind()
    {
        var model = new ScriptedChatClient((_, _, _) => Ready(
            new ChatResponseUpdate(ChatRole.Assistant, [new TextReasoningContent("think")]),
            new ChatResponseUpdate(ChatRole.Assistant, [new TextReasoningContent("ing")]),
            ScriptedChatClient.Text("Hel"),
            ScriptedChatClient.Text("lo "),
            ScriptedChatClient.Text("world")));
        await using var server = await ConclaveTestServer.StartAsync(model: model);
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("hi");

        Assert.Equal(["thinking", "token", "final_answer"], frames.Select(f => f.Type()));
        Assert.Equal("thinking", frames[0].Str("content"));
        Assert.Equal("Hello world", frames[1].Str("content"));
        Assert.Equal("Hello world", frames[^1].Str("content"));
    }

    [Fact]
    public async Task WhatIsReadyIsSentBeforeTheRunWaitsForTheModel()
    {
        var more = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var model = new ScriptedChatClient((_, _, ct) => PauseBetween(more.Task, ct));
        await using var server = await ConclaveTestServer.StartAsync(model: model);
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        await socket.SendAsync(new { type = "message", content = "hi" });
        // The model holds its third piece until the test has the first two: they cannot be waiting for it.
        var first = await socket.ReceiveTypeAsync("token");
        more.SetResult();
        var rest = await socket.ReceiveRunEndAsync();

        Assert.Equal("one two ", first.Str("content"));
        Assert.Equal(["three"], rest.Where(f => f.Type() == "token").Select(f => f.Str("content")));
        Assert.Equal("one two three", rest[^1].Str("content"));

        static async IAsyncEnumerable<ChatResponseUpdate> PauseBetween(Task more, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            yield return ScriptedChatClient.Text("one ");
            yield return ScriptedChatClient.Text("two ");
            await more.WaitAsync(cancellationToken);
            yield return ScriptedChatClient.Text("three");
        }
    }

    [Fact]
    public async Task AMergedDeltaStaysWithinTheSettingsLengthAndAPieceLongerGoesOutWhole()
    {
        var model = new ScriptedChatClient((_, _, _) => Ready(
            ScriptedChatClient.Text("12345"),
            ScriptedChatClient.Text("67"),
            ScriptedChatClient.Text("890ab"),
            ScriptedChatClient.Text("c"),
            ScriptedChatClient.Text("a piece of 21 letters"),
            ScriptedChatClient.Text("end")));
        await using var server = await ConclaveTestServer.StartAsync(
            new Dictionary<string, string?> { ["Conclave:Agent:MaxMergedDeltaChars"] = "10" }, model: model);
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("count");

        Assert.Equal(["1234567", "890abc", "a piece of 21 letters", "end"], frames.Where(f => f.Type() == "token").Select(f => f.Str("content")));
        Assert.Equal("1234567890abca piece of 21 lettersend", frames[^1].Str("content"));
    }

    [Fact]
    public async Task ReasoningBetweenPiecesOfTheAnswerEndsADeltaOfEachKindInOrder()
    {
        var model = new ScriptedChatClient((_, _, _) => Ready(
            ScriptedChatClient.Text("x"),
            ScriptedChatClient.Text("y"),
            new ChatResponseUpdate(ChatRole.Assistant, [new TextReasoningContent("t1")]),
            new ChatResponseUpdate(ChatRole.Assistant, [new TextReasoningContent("t2")]),
            ScriptedChatClient.Text("z")));
        await using var server = await ConclaveTestServer.StartAsync(model: model);
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("mix");

        Assert.Equal(
            [("token", "xy"), ("thinking", "t1t2"), ("token", "z"), ("final_answer", "xyz")],
            frames.Select(f => (f.Type(), f.Str("content"))));
    }

    [Fact]
    public async Task EachTurnsReadyPiecesAreMergedOnTheirOwnAfterTheAnswerSoFar()
    {
        var model = new ScriptedChatClient((messages, _, _) => messages[^1].Role == ChatRole.Tool
            ? Ready(ScriptedChatClient.Text("c"), ScriptedChatClient.Text("d"))
            : Ready(
                ScriptedChatClient.Text("a"),
                ScriptedChatClient.Text("b"),
                new ChatResponseUpdate(ChatRole.Assistant, [new FunctionCallContent("call_1", "calculator", new Dictionary<string, object?> { ["expression"] = "1+1" })])));
        await using var server = await ConclaveTestServer.StartAsync(model: model);
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("add");

        Assert.Equal(["ab", "cd"], frames.Where(f => f.Type() == "token").Select(f => f.Str("content")));
        Assert.Equal("abcd", frames[^1].Str("content"));
        Assert.Equal("ab", model.Calls[^1].Messages[^2].Text);
    }

    [Fact]
    public async Task ZeroSendsEachPieceAsTheModelGaveIt()
    {
        var model = new ScriptedChatClient((_, _, _) => Ready(ScriptedChatClient.Text("a"), ScriptedChatClient.Text("b"), ScriptedChatClient.Text("c")));
        await using var server = await ConclaveTestServer.StartAsync(
            new Dictionary<string, string?> { ["Conclave:Agent:MaxMergedDeltaChars"] = "0" }, model: model);
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("letters");

        Assert.Equal(["a", "b", "c"], frames.Where(f => f.Type() == "token").Select(f => f.Str("content")));
    }

    [Fact]
    public async Task PiecesReadyBeforeTheModelFailedAreSentBeforeTheError()
    {
        var model = new ScriptedChatClient((_, _, _) => ReadyThenFail());
        await using var server = await ConclaveTestServer.StartAsync(model: model);
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("hi");

        Assert.Equal(["token", "error"], frames.Select(f => f.Type()));
        Assert.Equal("half an answer", frames[0].Str("content"));
        Assert.Equal("llm_error", frames[^1].Str("code"));

        static async IAsyncEnumerable<ChatResponseUpdate> ReadyThenFail()
        {
            await Task.Yield();
            yield return ScriptedChatClient.Text("half ");
            yield return ScriptedChatClient.Text("an answer");
            throw new HttpRequestException("the provider went away");
        }
    }

    [Fact]
    public async Task AnExpertsReadyPiecesGoOutAsOneExpertStep()
    {
        var script = new TeamScript
        {
            Planner = (_, _) => TeamScript.Plan(("look", "researcher", [])),
            Expert = (_, _) => Ready(ScriptedChatClient.Text("fin"), ScriptedChatClient.Text("dings")),
        };
        await using var server = await ConclaveTestServer.StartAsync(model: script.ToClient());
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("/team research this");

        var step = Assert.Single(frames, f => f.Type() == "expert_step" && f.Str("kind") == "token");
        Assert.Equal("findings", step.Str("content"));
        Assert.Equal("findings", Assert.Single(frames, f => f.Type() == "expert_result").Str("content"));
    }

    /// <summary>A model turn whose updates are all there at once: none makes the reader wait.</summary>
    private static async IAsyncEnumerable<ChatResponseUpdate> Ready(params ChatResponseUpdate[] updates)
    {
        // The turn's start may wait; the updates after it come without a pause.
        await Task.Yield();
        foreach (var update in updates)
        {
            yield return update;
        }
    }
}
