using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests.Runs;

/// <summary>A graceful stop (SIGTERM) gives streaming runs <c>Conclave:Shutdown:DrainSeconds</c> to finish.</summary>
public sealed class ShutdownDrainTests
{
    [Fact]
    public async Task AStreamingRunFinishesWithinTheDrainThenTheSocketCloses()
    {
        await using var server = await ConclaveTestServer.StartAsync(Settings(drainSeconds: 20));
        var session = await server.CreateSessionAsync();
        var socket = await server.ConnectAsync(session);
        var other = await server.ConnectAsync(await server.CreateSessionAsync());
        await socket.SendAsync(new { type = "message", content = "stream 40 words" });
        await socket.ReceiveTypeAsync("token");

        var stopping = server.StopAsync();
        await Task.Delay(100);
        await other.SendAsync(new { type = "message", content = "stream 2 words" });
        var refused = await other.ReceiveAsync();
        var reading = ReadUntilClosedAsync(other);
        var (frames, closed) = await ReadUntilClosedAsync(socket);
        await reading;
        await stopping;

        Assert.Equal("final_answer", frames.Single(f => f.IsTerminal()).Type());
        Assert.EndsWith("word40", frames.Single(f => f.IsTerminal()).Str("content"), StringComparison.Ordinal);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, closed);
        Assert.Equal("internal", refused.Str("code"));
        Assert.True(refused.GetProperty("retryable").GetBoolean());
        Assert.Contains("shutting down", refused.Str("message"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARunStillStreamingWhenTheDrainEndsGetsInternalWithItsUsage()
    {
        await using var server = await ConclaveTestServer.StartAsync(Settings(drainSeconds: 1));
        var socket = await server.ConnectAsync(await server.CreateSessionAsync());
        await socket.SendAsync(new { type = "message", content = "stream 100000 words" });
        await socket.ReceiveTypeAsync("token");

        var watch = Stopwatch.StartNew();
        var stopping = server.StopAsync();
        var (frames, closed) = await ReadUntilClosedAsync(socket);
        await stopping;

        var terminal = frames.Single(f => f.IsTerminal());
        Assert.Equal("internal", terminal.Str("code"));
        Assert.True(terminal.GetProperty("retryable").GetBoolean());
        Assert.True(terminal.GetProperty("usage").GetProperty("output_tokens").GetInt64() > 0);
        Assert.True(frames.Count(f => f.Type() == "token") > 10, "the run did not go on during the drain");
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(0.9), $"stopped after {watch.Elapsed.TotalMilliseconds:0} ms");
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, closed);
    }

    [Fact]
    public async Task ARunWaitingOnAPersonDoesNotHoldTheDrainAndIsLeftWaiting()
    {
        await using var server = await ConclaveTestServer.StartAsync(Settings(drainSeconds: 30));
        var socket = await server.ConnectAsync(await server.CreateSessionAsync());
        await socket.SendAsync(new { type = "message", content = "ask me: still there?" });
        await socket.ReceiveTypeAsync("ask_human");

        var watch = Stopwatch.StartNew();
        var stopping = server.StopAsync();
        var (frames, closed) = await ReadUntilClosedAsync(socket);
        await stopping;

        Assert.DoesNotContain(frames, f => f.IsTerminal()); // suspended: the next start takes it up (DurableWaitTests)
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, closed);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"stopped after {watch.Elapsed.TotalMilliseconds:0} ms");
    }

    private static Dictionary<string, string?> Settings(int drainSeconds) => new()
    {
        ["Conclave:Shutdown:DrainSeconds"] = drainSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Conclave:Llm:Builtin:TokenDelayMs"] = "20",
    };

    private static async Task<(List<JsonElement> Frames, WebSocketCloseStatus? Closed)> ReadUntilClosedAsync(TestSocket socket)
    {
        var frames = new List<JsonElement>();
        try
        {
            while (true)
            {
                frames.Add(await socket.ReceiveAsync(TimeSpan.FromSeconds(30)));
            }
        }
        catch (WebSocketClosedException closed)
        {
            await socket.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
            return (frames, closed.Status);
        }
    }
}
