using System.Net.WebSockets;
using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests.Chat;

public sealed class ChatSocketConnectTests
{
    [Fact]
    public async Task ConnectedComesFirstAndDescribesTheSession()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);

        var connected = socket.Connected;
        Assert.Equal(session, connected.Str("session_id"));
        Assert.Equal(1, connected.GetProperty("protocol").GetInt32());
        Assert.Equal("conclave", connected.GetProperty("server").Str("name"));
        Assert.Equal(0, connected.GetProperty("last_event_id").GetInt64());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, connected.GetProperty("active_run_id").ValueKind);
        Assert.Equal(0, connected.GetProperty("pending").GetArrayLength());
        Assert.False(connected.TryGetProperty("event_id", out _));
    }

    [Fact]
    public async Task PingGetsPongWithTheNonceAndNoEventId()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        await socket.SendAsync(new { type = "ping", nonce = "n-42" });
        var pong = await socket.ReceiveAsync();

        Assert.Equal("pong", pong.Type());
        Assert.Equal("n-42", pong.Str("nonce"));
        Assert.False(pong.TryGetProperty("event_id", out _));
        Assert.False(pong.TryGetProperty("run_id", out _));
    }

    [Fact]
    public async Task UpgradeWithoutKeyOrWithWrongKeyIs401()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var session = await server.CreateSessionAsync();

        Assert.Equal(401, await server.UpgradeStatusAsync(session, key: null));
        Assert.Equal(401, await server.UpgradeStatusAsync(session, key: "not-a-key"));
    }

    [Fact]
    public async Task UpgradeToUnknownSessionIs404()
    {
        await using var server = await ConclaveTestServer.StartAsync();

        Assert.Equal(404, await server.UpgradeStatusAsync("nonexistent-session"));
    }

    [Fact]
    public async Task UpgradeFromForeignOriginIs403ButAllowedAndOwnOriginsConnect()
    {
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Conclave:Cors:Origins:0"] = "https://chat.example.com",
        });
        var session = await server.CreateSessionAsync();

        Assert.Equal(403, await server.UpgradeStatusAsync(session, origin: "https://evil.example.com"));
        Assert.Equal(101, await server.UpgradeStatusAsync(session, origin: "https://chat.example.com"));
        Assert.Equal(101, await server.UpgradeStatusAsync(session, origin: $"http://{server.BaseUri.Authority}"));
        Assert.Equal(101, await server.UpgradeStatusAsync(session, origin: null));
    }

    [Fact]
    public async Task ShutdownClosesSocketsWith1001AndEndsTheStreamingRun()
    {
        var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?> { ["Conclave:Llm:Builtin:TokenDelayMs"] = "20" });
        var dataDir = server.DataDir;
        try
        {
            var session = await server.CreateSessionAsync();
            var socket = await server.ConnectAsync(session);
            await socket.SendAsync(new { type = "message", content = "stream 100000 words" });
            await socket.ReceiveTypeAsync("token");

            var stopping = server.StopAsync();
            var frames = new List<System.Text.Json.JsonElement>();
            var closed = await Assert.ThrowsAsync<WebSocketClosedException>(async () =>
            {
                while (true)
                {
                    frames.Add(await socket.ReceiveAsync());
                }
            });
            await stopping;

            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, closed.Status);
            var terminal = Assert.Single(frames, f => f.IsTerminal());
            Assert.Equal("internal", terminal.Str("code"));
            Assert.True(terminal.GetProperty("retryable").GetBoolean());
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
