using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests.Auth;

public sealed class TenantTests
{
    [Fact]
    public async Task MissingOrWrongKeyIs401Problem()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        using var anonymous = server.CreateClient(null);
        using var wrong = server.CreateClient("ck_wrong");

        foreach (var client in new[] { anonymous, wrong })
        {
            using var response = await client.GetAsync("/api/v1/sessions");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task BearerHeaderWorksLikeTheApiKeyHeader()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        using var client = server.CreateClient(null);
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ConclaveTestServer.AdminKey);

        using var response = await client.GetAsync("/api/v1/sessions");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ApiKeyInTheQueryIsOnlyAcceptedOnTheChatSocket()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        using var client = server.CreateClient(null);

        using var response = await client.GetAsync($"/api/v1/sessions?api_key={ConclaveTestServer.AdminKey}");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task TenantSeesOnlyItsOwnSessionsAndSkillsAndGets404ForOthers()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var adminSession = await server.CreateSessionAsync();
        await server.Http.PostAsJsonAsync("/api/v1/skills", new { name = "secret", description = "", keywords = new[] { "k" }, instructions = "i" });
        var (_, key) = await server.CreateTenantKeyAsync("acme");
        using var tenant = server.CreateClient(key);
        var tenantSession = await server.CreateSessionAsync(tenant);

        var tenantList = await tenant.GetFromJsonAsync<JsonElement>("/api/v1/sessions");
        var adminList = await server.Http.GetFromJsonAsync<JsonElement>("/api/v1/sessions");
        var tenantSkills = await tenant.GetFromJsonAsync<JsonElement>("/api/v1/skills");
        using var otherSession = await tenant.GetAsync($"/api/v1/sessions/{adminSession}");
        using var otherMessages = await tenant.GetAsync($"/api/v1/sessions/{adminSession}/messages");
        using var otherEvents = await tenant.GetAsync($"/api/v1/sessions/{adminSession}/events");
        using var otherDelete = await tenant.DeleteAsync($"/api/v1/sessions/{adminSession}");
        using var otherSkill = await tenant.GetAsync("/api/v1/skills/secret");

        Assert.Equal([tenantSession], tenantList.EnumerateArray().Select(s => s.Str("id")));
        Assert.Equal([adminSession], adminList.EnumerateArray().Select(s => s.Str("id")));
        Assert.Equal(0, tenantSkills.GetArrayLength());
        Assert.All([otherSession, otherMessages, otherEvents, otherDelete, otherSkill], r => Assert.Equal(HttpStatusCode.NotFound, r.StatusCode));
        Assert.Equal(404, await server.UpgradeStatusAsync(adminSession, key));
        Assert.Equal(101, await server.UpgradeStatusAsync(tenantSession, key));
    }

    [Fact]
    public async Task TenantSkillsMatchOnlyTheirOwnRuns()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        await server.Http.PostAsJsonAsync("/api/v1/skills", new { name = "admin-only", description = "", keywords = new[] { "banana" }, instructions = "i" });
        var (_, key) = await server.CreateTenantKeyAsync();
        using var tenant = server.CreateClient(key);
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync(tenant), key);

        var frames = await socket.ChatAsync("banana");

        Assert.DoesNotContain(frames, f => f.Type() == "skill_match");
    }

    [Fact]
    public async Task OnlyTheAdminManagesKeysAndKeysAreNeverShownAgain()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        using var created = await server.Http.PostAsJsonAsync("/api/v1/api-keys", new { name = "acme" });
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        using var tenant = server.CreateClient(body.Str("key"));

        using var tenantCreates = await tenant.PostAsJsonAsync("/api/v1/api-keys", new { name = "x" });
        using var tenantLists = await tenant.GetAsync("/api/v1/api-keys");
        using var badName = await server.Http.PostAsJsonAsync("/api/v1/api-keys", new { name = "" });
        var listed = await server.Http.GetStringAsync("/api/v1/api-keys");

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.StartsWith("ck_", body.Str("key"), StringComparison.Ordinal);
        Assert.True(body.Str("key")!.Length >= 40);
        Assert.Equal(HttpStatusCode.Forbidden, tenantCreates.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, tenantLists.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);
        Assert.Contains("acme", listed, StringComparison.Ordinal);
        Assert.DoesNotContain(body.Str("key")!, listed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeysAreStoredOnlyAsSha256Hashes()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var (id, key) = await server.CreateTenantKeyAsync();
        await server.StopAsync();

        await using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(server.DataDir, "conclave.db")}");
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = "SELECT KeyHash FROM api_keys WHERE Id = $id";
        command.Parameters.AddWithValue("$id", id);
        var stored = (byte[])(await command.ExecuteScalarAsync())!;
        var dump = await File.ReadAllBytesAsync(Path.Combine(server.DataDir, "conclave.db"));

        Assert.Equal(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)), stored);
        Assert.Equal(-1, dump.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(key)));
    }

    [Fact]
    public async Task RevokingAKeyClosesItsSocketsAndRefusesIt()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var (id, key) = await server.CreateTenantKeyAsync();
        using var tenant = server.CreateClient(key);
        var session = await server.CreateSessionAsync(tenant);
        await using var socket = await server.ConnectAsync(session, key);
        await using var adminSocket = await server.ConnectAsync(await server.CreateSessionAsync());

        using var revoked = await server.Http.DeleteAsync($"/api/v1/api-keys/{id}");
        var closed = await Assert.ThrowsAsync<WebSocketClosedException>(() => socket.ReceiveAsync());
        using var after = await tenant.GetAsync("/api/v1/sessions");
        await adminSocket.SendAsync(new { type = "ping" });

        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, closed.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Equal(401, await server.UpgradeStatusAsync(session, key));
        Assert.Equal("pong", (await adminSocket.ReceiveAsync()).Type());
    }

    [Fact]
    public async Task ApiKeyInTheSocketUrlNeverReachesTheLogs()
    {
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Trace",
            ["Logging:LogLevel:Microsoft"] = "Trace",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace",
            ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Trace",
            ["Logging:LogLevel:Conclave"] = "Trace",
        });
        var (_, key) = await server.CreateTenantKeyAsync();
        using var tenant = server.CreateClient(key);
        var session = await server.CreateSessionAsync(tenant);
        await using (var socket = await server.ConnectAsync(session, key))
        {
            await socket.ChatAsync("stream 2 words");
        }

        await server.UpgradeStatusAsync(session, key + "x");

        Assert.True(server.Logs.Lines.Any(l => l.Contains("/api/v1/chat/ws/", StringComparison.Ordinal)), string.Join("\n", server.Logs.Lines.Where(l => l.Contains("Conclave", StringComparison.Ordinal))));
        Assert.DoesNotContain(server.Logs.Lines, l => l.Contains(key, StringComparison.Ordinal));
        Assert.DoesNotContain(server.Logs.Lines, l => l.Contains(ConclaveTestServer.AdminKey, StringComparison.Ordinal));
    }
}
