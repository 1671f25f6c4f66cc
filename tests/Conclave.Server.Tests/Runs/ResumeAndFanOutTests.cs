using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Net.WebSockets;
using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.Extensions.AI;

namespace Conclave.Server.Tests.Runs;

public sealed class ResumeAndFanOutTests
{
    [Fact]
    public async Task ReconnectWithLastEventIdGetsExactlyTheMissedEventsAfterARun()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var session = await server.CreateSessionAsync();
        List<JsonElement> all;
        await using (var first = await server.ConnectAsync(session))
        {
            all = await first.ChatAsync("stream 10 words");
        }

        await using var resumed = await server.ConnectAsync(session, lastEventId: 4);
        var replay = new List<JsonElement>();
        for (var i = 0; i < all.Count - 4; i++)
        {
            replay.Add(await resumed.ReceiveAsync());
        }

        await resumed.SendAsync(new { type = "ping" });
        var next = await resumed.ReceiveAsync();

        Assert.Equal(all[^1].EventId(), resumed.Connected.GetProperty("last_event_id").GetInt64());
        Assert.Equal(all.Skip(4).Select(f => f.GetRawText()), replay.Select(f => f.GetRawText()));
        Assert.Equal("pong", next.Type());
    }

    [Fact]
    public async Task ReconnectDuringARunGetsEveryEventOnceWithNoGap()
    {
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Conclave:Llm:Builtin:TokenDelayMs"] = "2",
        });
        var session = await server.CreateSessionAsync();
        var seen = new List<JsonElement>();
        var first = await server.ConnectAsync(session);
        await first.SendAsync(new { type = "message", content = "stream 300 words" });
        for (var i = 0; i < 40; i++)
        {
            seen.Add(await first.ReceiveAsync());
        }

        first.Socket.Abort(); // a dropped connection, not a polite close
        first.Socket.Dispose();
        await Task.Delay(100); // the run goes on meanwhile

        await using var second = await server.ConnectAsync(session, lastEventId: seen[^1].EventId());
        seen.AddRange(await second.ReceiveRunEndAsync());

        Assert.Equal(Enumerable.Range(1, seen.Count).Select(i => (long)i), seen.Select(f => f.EventId()));
        Assert.Equal("final_answer", seen[^1].Type());
        Assert.Equal(seen[^1].Str("content"), seen.Tokens());
        var stored = await server.Http.GetFromJsonAsync<JsonElement>($"/api/v1/sessions/{session}/events?after=0&limit=10000");
        Assert.Equal(seen.Select(f => f.GetRawText()), stored.EnumerateArray().Select(e => e.GetRawText()));
    }

    [Fact]
    public async Task EverySocketOnTheSessionGetsTheRunAndAnyMayAnswer()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var session = await server.CreateSessionAsync();
        await using var a = await server.ConnectAsync(session);
        await using var b = await server.ConnectAsync(session);

        await a.SendAsync(new { type = "message", content = "ask me: which tab?" });
        var askA = await a.ReceiveTypeAsync("ask_human");
        var askB = await b.ReceiveTypeAsync("ask_human");
        await b.SendAsync(new { type = "reply", request_id = askB.Str("request_id"), content = "tab B" });
        var endA = await a.ReceiveRunEndAsync();
        var endB = await b.ReceiveRunEndAsync();

        Assert.Equal(askA.GetRawText(), askB.GetRawText());
        Assert.Equal("You answered: tab B", endA[^1].Str("content"));
        Assert.Equal(a.Received.Skip(1).Select(f => f.GetRawText()), b.Received.Skip(1).Select(f => f.GetRawText()));
    }

    [Fact]
    public async Task NewTabSeesTheActiveRunAndItsPendingRequestsAndCanAnswer()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var session = await server.CreateSessionAsync();
        await using var a = await server.ConnectAsync(session);
        await a.SendAsync(new { type = "message", content = "use tool write_file {\"path\": \"x.txt\", \"content\": \"1\"}" });
        var request = await a.ReceiveTypeAsync("confirmation_request");

        await using var fresh = await server.ConnectAsync(session);
        var pending = Assert.Single(fresh.Connected.GetProperty("pending").EnumerateArray());
        Assert.Equal(request.Str("run_id"), fresh.Connected.Str("active_run_id"));
        Assert.Equal(request.GetRawText(), pending.GetRawText());

        await fresh.SendAsync(new { type = "confirmation_reply", request_id = pending.Str("request_id"), approved = true });
        var frames = await a.ReceiveRunEndAsync();
        Assert.StartsWith("Tool write_file returned:", frames[^1].Str("content"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunGoesOnWhenItsSocketCloses()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var session = await server.CreateSessionAsync();
        var lastSeen = 0L;
        await using (var a = await server.ConnectAsync(session))
        {
            await a.SendAsync(new { type = "message", content = "stream 100 words" });
            lastSeen = (await a.ReceiveTypeAsync("token")).EventId();
        }

        await using var b = await server.ConnectAsync(session, lastEventId: lastSeen);
        var frames = await b.ReceiveRunEndAsync();

        Assert.Equal("final_answer", frames[^1].Type());
        Assert.Equal(lastSeen + 1, frames[0].EventId());
    }

    [Fact]
    public async Task ClientThatStopsReadingIsClosedWithoutSlowingTheRunOrOtherSocketsAndCanResume()
    {
        // Big tokens at a pace a reading client keeps up with easily: about 4 MB/s.
        var model = new ScriptedChatClient((_, _, ct) => Infrastructure.Stream.Repeat(new string('x', 4_000), 3_000, 1, ct));
        await using var server = await ConclaveTestServer.StartAsync(
            new Dictionary<string, string?> { ["Conclave:WebSocket:SendQueueCapacity"] = "512" }, model: model);
        var session = await server.CreateSessionAsync();
        var stalled = await server.ConnectAsync(session, receiveBufferBytes: 4096);
        await using var reader = await server.ConnectAsync(session);

        await reader.SendAsync(new { type = "message", content = "go" });
        var frames = await reader.ReceiveRunEndAsync(TimeSpan.FromSeconds(120));
        Assert.Equal("final_answer", frames[^1].Type());
        Assert.Equal(3_000, frames.Count(f => f.Type() == "token"));

        // The stalled socket was dropped: reading what reached it ends in a close (1008) or a reset, never the whole run.
        var received = new List<JsonElement>();
        var ended = await Record.ExceptionAsync(async () =>
        {
            while (true)
            {
                var frame = await stalled.ReceiveAsync(TimeSpan.FromSeconds(10));
                received.Add(frame);
                if (frame.IsTerminal())
                {
                    return;
                }
            }
        });
        Assert.True(ended is WebSocketClosedException { Status: WebSocketCloseStatus.PolicyViolation } or WebSocketException,
            $"expected the stalled socket to be closed, got {ended?.GetType().Name ?? "the whole run"} after {received.Count} frames");
        stalled.Socket.Dispose();

        var lastSeen = received.Count == 0 ? 0 : received[^1].EventId();
        await using var resumed = await server.ConnectAsync(session, lastEventId: lastSeen);
        var rest = await resumed.ReceiveRunEndAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(lastSeen + 1, rest[0].EventId());
        Assert.Equal(frames[^1].EventId(), rest[^1].EventId());
    }

}
