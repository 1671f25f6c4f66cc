using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests.Runs;

public sealed class CancelTests
{
    private static readonly TimeSpan CancelDeadline = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task CancelWhileTheModelStreamsEndsTheRunWithCancelled()
    {
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Conclave:Llm:Builtin:TokenDelayMs"] = "200",
        });
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());
        await socket.SendAsync(new { type = "message", content = "stream 1000 words" });
        await socket.ReceiveTypeAsync("token");

        var (error, elapsed) = await CancelAsync(socket);

        AssertCancelled(error, elapsed);
    }

    [Fact]
    public async Task CancelWhileWaitingForConfirmationEndsTheRunWithCancelled()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());
        await socket.SendAsync(new { type = "message", content = "use tool write_file {\"path\": \"a\", \"content\": \"b\"}" });
        await socket.ReceiveTypeAsync("confirmation_request");

        var (error, elapsed) = await CancelAsync(socket);

        AssertCancelled(error, elapsed);
    }

    [Fact]
    public async Task CancelWhileWaitingForAReplyEndsTheRunWithCancelled()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());
        await socket.SendAsync(new { type = "message", content = "ask me: well?" });
        var ask = await socket.ReceiveTypeAsync("ask_human");

        var (error, elapsed) = await CancelAsync(socket, new { type = "cancel", run_id = ask.Str("run_id") });
        await socket.SendAsync(new { type = "reply", request_id = ask.Str("request_id"), content = "late" });
        var late = await socket.ReceiveAsync();

        AssertCancelled(error, elapsed);
        Assert.Equal("unknown_request", late.Str("code"));
    }

    [Fact]
    public async Task CancelWhileAToolRunsEndsTheRunWithCancelled()
    {
        // A server that accepts the connection and never answers: http_get waits on it.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Conclave:Tools:HttpGet:AllowedHosts:0"] = "127.0.0.1",
        });
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());
        await socket.SendAsync(new { type = "message", content = $"use tool http_get {{\"url\": \"http://127.0.0.1:{port}/slow\"}}" });
        var request = await socket.ReceiveTypeAsync("confirmation_request");
        await socket.SendAsync(new { type = "confirmation_reply", request_id = request.Str("request_id"), approved = true });
        await socket.ReceiveTypeAsync("confirmation_result");
        using var accepted = await silent.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(10));

        var (error, elapsed) = await CancelAsync(socket);

        AssertCancelled(error, elapsed);
    }

    [Fact]
    public async Task CancelForAnotherRunIdIsNoActiveRunAndTheRunGoesOn()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());
        await socket.SendAsync(new { type = "message", content = "ask me: still there?" });
        var ask = await socket.ReceiveTypeAsync("ask_human");

        await socket.SendAsync(new { type = "cancel", run_id = "run_other" });
        var error = await socket.ReceiveAsync();
        await socket.SendAsync(new { type = "reply", request_id = ask.Str("request_id"), content = "yes" });
        var frames = await socket.ReceiveRunEndAsync();

        Assert.Equal("no_active_run", error.Str("code"));
        Assert.Equal("You answered: yes", frames[^1].Str("content"));
    }

    [Fact]
    public async Task CancelledRunCanBeFollowedByANewRun()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());
        await socket.SendAsync(new { type = "message", content = "ask me: hm?" });
        await socket.ReceiveTypeAsync("ask_human");
        await CancelAsync(socket);

        var frames = await socket.ChatAsync("stream 3 words");

        Assert.Equal("word1 word2 word3", frames[^1].Str("content"));
    }

    [Fact]
    public async Task ACancelledRunReportsTheTokensItUsedSoFar()
    {
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Conclave:Llm:Builtin:TokenDelayMs"] = "5",
        });
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());
        await socket.SendAsync(new { type = "message", content = "stream 100000 words" });
        var streamed = await socket.ReceiveUntilAsync(f => f.Type() == "token" && f.Str("content") == " word50");

        var (error, _) = await CancelAsync(socket);

        var usage = error.GetProperty("usage");
        Assert.True(usage.GetProperty("input_tokens").GetInt64() > 0, usage.GetRawText());
        Assert.True(usage.GetProperty("output_tokens").GetInt64() >= streamed.Count(f => f.Type() == "token"), usage.GetRawText());
    }

    private static async Task<(JsonElement Error, TimeSpan Elapsed)> CancelAsync(TestSocket socket, object? frame = null)
    {
        var watch = Stopwatch.StartNew();
        await socket.SendAsync(frame ?? new { type = "cancel" });
        var frames = await socket.ReceiveRunEndAsync();
        return (frames[^1], watch.Elapsed);
    }

    private static void AssertCancelled(JsonElement error, TimeSpan elapsed)
    {
        Assert.Equal("error", error.Type());
        Assert.Equal("cancelled", error.Str("code"));
        Assert.False(error.GetProperty("retryable").GetBoolean());
        Assert.True(error.TryGetProperty("usage", out _));
        Assert.True(elapsed < CancelDeadline, $"cancel took {elapsed.TotalMilliseconds:0} ms");
    }
}
