using Conclave.Server.Chat;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Server.Tests.Chat;

public sealed class KeepAliveAndStorageSettingsTests
{
    [Fact]
    public async Task SocketThatNeverAnswersKeepAlivePingsIsDropped()
    {
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Conclave:WebSocket:KeepAliveSeconds"] = "1",
            ["Conclave:WebSocket:KeepAliveTimeoutSeconds"] = "1",
        });
        var registry = server.Services.GetRequiredService<ChatConnectionRegistry>();
        var silent = await server.ConnectAsync(await server.CreateSessionAsync());
        Assert.Equal(1, registry.Count);

        // The client reads nothing from now on, so it never answers a ping.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (registry.Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Equal(0, registry.Count);
        silent.Socket.Dispose();
    }

    [Fact]
    public async Task SocketThatAnswersPingsStaysOpen()
    {
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Conclave:WebSocket:KeepAliveSeconds"] = "1",
            ["Conclave:WebSocket:KeepAliveTimeoutSeconds"] = "1",
        });
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        // A pending read answers the server's pings; after 3 quiet seconds a ping of ours still gets its pong.
        var next = socket.ReceiveAsync(TimeSpan.FromSeconds(15));
        await Task.Delay(TimeSpan.FromSeconds(3));
        await socket.SendAsync(new { type = "ping", nonce = "still-here" });

        Assert.Equal("still-here", (await next).Str("nonce"));
    }

    [Fact]
    public async Task DatabaseRunsInWalMode()
    {
        await using var server = await ConclaveTestServer.StartAsync();

        await using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(server.DataDir, "conclave.db")}");
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";

        Assert.Equal("wal", (string)(await command.ExecuteScalarAsync())!);
    }
}
