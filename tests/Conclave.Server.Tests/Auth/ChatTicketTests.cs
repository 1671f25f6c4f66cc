using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests.Auth;

/// <summary>Chat tickets: how a browser opens a socket without its key in the URL.</summary>
public sealed class ChatTicketTests
{
    [Fact]
    public async Task ATicketOpensOneSocketAsItsKeysTenantAndOnlyOnce()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var (_, key) = await server.CreateTenantKeyAsync("browser");
        using var tenant = server.CreateClient(key);
        var session = await server.CreateSessionAsync(tenant);
        var ticket = await IssueAsync(tenant);

        await using (var socket = await ConnectAsync(server, session, ticket))
        {
            Assert.Equal(session, socket.Connected.Str("session_id"));
            var frames = await socket.ChatAsync("stream 2 words");
            Assert.Equal("word1 word2", frames.Tokens());
        }

        Assert.Equal(401, await server.UpgradeStatusAsync(session, key: null, ticket: ticket));
    }

    [Fact]
    public async Task ATicketOfOneTenantDoesNotOpenAnotherTenantsSession()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var adminSession = await server.CreateSessionAsync();
        var (_, key) = await server.CreateTenantKeyAsync("other");
        using var tenant = server.CreateClient(key);

        Assert.Equal(404, await server.UpgradeStatusAsync(adminSession, key: null, ticket: await IssueAsync(tenant)));
    }

    [Fact]
    public async Task AnExpiredTicketIsRefused()
    {
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?> { ["Conclave:Auth:TicketSeconds"] = "1" });
        var session = await server.CreateSessionAsync();
        var ticket = await IssueAsync(server.Http);

        await Task.Delay(TimeSpan.FromSeconds(1.5));

        Assert.Equal(401, await server.UpgradeStatusAsync(session, key: null, ticket: ticket));
    }

    [Fact]
    public async Task RevokingTheKeyVoidsItsTickets()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var (id, key) = await server.CreateTenantKeyAsync("soon-revoked");
        using var tenant = server.CreateClient(key);
        var session = await server.CreateSessionAsync(tenant);
        var ticket = await IssueAsync(tenant);

        (await server.Http.DeleteAsync($"/api/v1/api-keys/{id}")).EnsureSuccessStatusCode();

        Assert.Equal(401, await server.UpgradeStatusAsync(session, key: null, ticket: ticket));
    }

    [Fact]
    public async Task ATicketIsNoKeyForTheRestApiAndAMadeUpTicketOpensNothing()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var session = await server.CreateSessionAsync();
        using var anonymous = server.CreateClient(null);
        var ticket = await IssueAsync(server.Http);

        using var rest = await anonymous.GetAsync($"/api/v1/sessions?ticket={ticket}");

        Assert.Equal(HttpStatusCode.Unauthorized, rest.StatusCode);
        Assert.Equal(401, await server.UpgradeStatusAsync(session, key: null, ticket: "tkt_" + new string('A', 43)));
        Assert.Equal(401, await server.UpgradeStatusAsync(session, key: null, ticket: ticket[..^1]));

        // The REST call above did not use the ticket up.
        await using var socket = await ConnectAsync(server, session, ticket);
        Assert.Equal("connected", socket.Connected.Type());
    }

    [Fact]
    public async Task IssuingNeedsAKeyAndTheAnswerIsNotCached()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        using var anonymous = server.CreateClient(null);

        using var refused = await anonymous.PostAsJsonAsync("/api/v1/chat/tickets", new { });
        using var issued = await server.Http.PostAsJsonAsync("/api/v1/chat/tickets", new { });

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        Assert.True(issued.Headers.CacheControl?.NoStore);
        var body = await issued.Content.ReadFromJsonAsync<JsonElement>();
        Assert.StartsWith("tkt_", body.GetProperty("ticket").GetString());
        var expiresAt = body.GetProperty("expires_at").GetDateTime();
        Assert.InRange(expiresAt - DateTime.UtcNow, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(31));
    }

    private static async Task<string> IssueAsync(HttpClient client)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/chat/tickets", new { });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ticket").GetString()!;
    }

    private static async Task<TestSocket> ConnectAsync(ConclaveTestServer server, string session, string ticket)
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(server.SocketUri(session, key: null, ticket: ticket), CancellationToken.None);
        var test = new TestSocket(socket);
        test.Connected = await test.ReceiveAsync();
        return test;
    }
}
