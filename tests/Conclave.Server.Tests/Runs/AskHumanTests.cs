using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests.Runs;

public sealed class AskHumanTests
{
    [Fact]
    public async Task ReplyResumesTheRunWithTheAnswer()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        await socket.SendAsync(new { type = "message", content = "ask me: what colour?" });
        var ask = await socket.ReceiveTypeAsync("ask_human");
        Assert.Equal("what colour?", ask.Str("question"));
        await socket.SendAsync(new { type = "reply", request_id = ask.Str("request_id"), content = "blue" });
        var frames = await socket.ReceiveRunEndAsync();

        Assert.Equal("You answered: blue", frames[^1].Str("content"));
    }

    [Fact]
    public async Task WithTheTimeoutOffAQuestionWaitsForItsReply()
    {
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Conclave:AskHuman:TimeoutSeconds"] = "0",
        });
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());
        await socket.SendAsync(new { type = "message", content = "ask me: take your time?" });
        var ask = await socket.ReceiveTypeAsync("ask_human");

        await Task.Delay(TimeSpan.FromSeconds(1.5)); // past the shortest timeout there is otherwise
        await socket.SendAsync(new { type = "reply", request_id = ask.Str("request_id"), content = "done" });
        var frames = await socket.ReceiveRunEndAsync();

        Assert.Equal("You answered: done", frames[^1].Str("content"));
    }

    [Fact]
    public async Task UnansweredQuestionEndsTheRunWithTimeout()
    {
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Conclave:AskHuman:TimeoutSeconds"] = "1",
        });
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("ask me: anyone there?");

        Assert.Equal("error", frames[^1].Type());
        Assert.Equal("timeout", frames[^1].Str("code"));
        Assert.True(frames[^1].TryGetProperty("usage", out _));
    }

    [Fact]
    public async Task ReplyToAConfirmationIdIsUnknownRequestAndTheQuestionStaysOpen()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        await socket.SendAsync(new { type = "message", content = "ask me: colour?" });
        var ask = await socket.ReceiveTypeAsync("ask_human");
        await socket.SendAsync(new { type = "confirmation_reply", request_id = ask.Str("request_id"), approved = true });
        var error = await socket.ReceiveAsync();
        await socket.SendAsync(new { type = "reply", request_id = ask.Str("request_id"), content = "green" });
        var frames = await socket.ReceiveRunEndAsync();

        Assert.Equal("unknown_request", error.Str("code"));
        Assert.Equal("You answered: green", frames[^1].Str("content"));
    }
}
