using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.Extensions.AI;

namespace Conclave.Server.Tests.Chat;

/// <summary>Failure modes found in review: each of these once hung, leaked or lost something.</summary>
public sealed class ReviewRegressionTests
{
    [Fact]
    public async Task ResumingPastTheNewestEventStillGetsLiveEvents()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session, lastEventId: 50);

        var frames = await socket.ChatAsync("stream 3 words");

        Assert.Equal(0, socket.Connected.GetProperty("last_event_id").GetInt64());
        Assert.Equal(1, frames[0].EventId());
        Assert.Equal("word1 word2 word3", frames[^1].Str("content"));
    }

    [Fact]
    public async Task DeletingASessionWithAClientThatStoppedReadingAnswersPromptly()
    {
        var model = new ScriptedChatClient((_, _, ct) => Infrastructure.Stream.Repeat(new string('x', 4_000), 2_000, 1, ct));
        await using var server = await ConclaveTestServer.StartAsync(
            new Dictionary<string, string?> { ["Conclave:WebSocket:KeepAliveSeconds"] = "0" }, model: model);
        var session = await server.CreateSessionAsync();
        var stalled = await server.ConnectAsync(session, receiveBufferBytes: 4096);
        await stalled.SendAsync(new { type = "message", content = "go" });
        await Task.Delay(1_500); // let its buffers fill

        var watch = System.Diagnostics.Stopwatch.StartNew();
        using var deleted = await server.Http.DeleteAsync($"/api/v1/sessions/{session}");
        watch.Stop();

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"DELETE took {watch.Elapsed.TotalSeconds:0.0} s");
        stalled.Socket.Dispose();
    }

    [Fact]
    public async Task RevokedKeysSocketCannotStartRunsEvenWhileItsCloseIsPending()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var (id, key) = await server.CreateTenantKeyAsync();
        using var tenant = server.CreateClient(key);
        var session = await server.CreateSessionAsync(tenant);
        await using var socket = await server.ConnectAsync(session, key);

        await server.Http.DeleteAsync($"/api/v1/api-keys/{id}");
        try
        {
            await socket.SendAsync(new { type = "message", content = "stream 2 words" });
        }
        catch (WebSocketException)
        {
            // Already closed: fine.
        }

        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            while (true)
            {
                await socket.ReceiveAsync(TimeSpan.FromSeconds(5));
            }
        });
        // The admin cannot see a tenant's session over REST either, so look in the database.
        await using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(server.DataDir, "conclave.db")}");
        await db.OpenAsync();
        await using var count = db.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM messages";
        Assert.Equal(0L, (long)(await count.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task RecoveryDoesNotAddATerminalEventToARunWhoseTerminalIsStored()
    {
        using var temp = new TempDataDir();
        var dataDir = temp.Path;
        string session;
        List<JsonElement> frames;
        await using (var first = await ConclaveTestServer.StartAsync(dataDir: dataDir))
        {
            session = await first.CreateSessionAsync();
            await using var socket = await first.ConnectAsync(session);
            frames = await socket.ChatAsync("stream 2 words");
        }

        // As if the process died after storing final_answer but before recording the run as ended.
        await using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(dataDir, "conclave.db")};Pooling=False"))
        {
            await db.OpenAsync();
            await using var reopen = db.CreateCommand();
            reopen.CommandText = "UPDATE runs SET Status = 'running', EndedAt = NULL";
            Assert.Equal(1, await reopen.ExecuteNonQueryAsync());
        }

        await using var second = await ConclaveTestServer.RestartOnAsync(dataDir);
        var events = await second.Http.GetFromJsonAsync<JsonElement>($"/api/v1/sessions/{session}/events");

        Assert.Equal(frames.Count, events.GetArrayLength());
        Assert.Equal("final_answer", events[events.GetArrayLength() - 1].Type());
        await using var check = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(dataDir, "conclave.db")};Pooling=False");
        await check.OpenAsync();
        await using var status = check.CreateCommand();
        status.CommandText = "SELECT Status FROM runs";
        Assert.Equal("completed", (string)(await status.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task SecondServerOnTheSameDataFolderRefusesToStart()
    {
        await using var first = await ConclaveTestServer.StartAsync();

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => ConclaveTestServer.StartAsync(dataDir: first.DataDir));

        Assert.Contains("in use by another Conclave process", refused.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfiguredAdminKeyReplacesTheGeneratedOne()
    {
        using var temp = new TempDataDir();
        var dataDir = temp.Path;
        string generated;
        await using (var first = await ServerProcess.StartAsync(dataDir))
        {
            generated = await first.WaitForOutputAsync(@"ck_[A-Za-z0-9_-]{40,}");
        }

        await using var second = await ConclaveTestServer.RestartOnAsync(dataDir);
        using var old = second.CreateClient(generated);
        using var response = await old.GetAsync("/api/v1/api-keys");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

}
