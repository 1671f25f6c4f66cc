using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests.Mcp;

/// <summary><c>/api/v1/mcp-servers</c>: who may register what, tenant isolation, validation.</summary>
public sealed class McpServersApiTests
{
    [Fact]
    public async Task ATenantMayNotRegisterAStdioServerNorOneAtALoopbackOrPrivateAddress()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var (_, key) = await server.CreateTenantKeyAsync();
        using var tenant = server.CreateClient(key);

        using var stdio = await McpTestServers.RegisterAsync(tenant, new { name = "sh", transport = "stdio", command = "/bin/sh" });
        Assert.Equal(HttpStatusCode.Forbidden, stdio.StatusCode);
        Assert.Contains("Only the admin", await stdio.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        foreach (var url in new[] { "http://127.0.0.1:9/mcp", "http://localhost:9/mcp", "http://10.1.2.3/mcp", "http://169.254.169.254/mcp", "http://[::1]:9/mcp" })
        {
            using var response = await McpTestServers.RegisterAsync(tenant, new { name = "inside", transport = "http", url });
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("not a public address", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Empty((await tenant.GetFromJsonAsync<List<JsonElement>>("/api/v1/mcp-servers"))!);
    }

    [Fact]
    public async Task ATenantNeverSeesNorCallsAnotherTenantsServers()
    {
        await using var fake = await FakeMcpServer.StartAsync();
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?> { ["Conclave:Mcp:AllowedHosts:0"] = "127.0.0.1" });
        var (_, keyA) = await server.CreateTenantKeyAsync("a");
        var (_, keyB) = await server.CreateTenantKeyAsync("b");
        using var a = server.CreateClient(keyA);
        using var b = server.CreateClient(keyB);
        await McpTestServers.RegisterOkAsync(a, new { name = "mine", transport = "http", url = fake.Endpoint.ToString() });

        Assert.Contains("mine.echo", (await McpTestServers.ToolsAsync(a)).Keys);
        Assert.DoesNotContain("mine.echo", (await McpTestServers.ToolsAsync(b)).Keys);
        Assert.DoesNotContain("mine.echo", (await McpTestServers.ToolsAsync(server.Http)).Keys);
        Assert.Empty((await b.GetFromJsonAsync<List<JsonElement>>("/api/v1/mcp-servers"))!);
        using (var get = await b.GetAsync("/api/v1/mcp-servers/mine"))
        {
            Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        }

        using (var delete = await b.DeleteAsync("/api/v1/mcp-servers/mine"))
        {
            Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
        }

        // B's agent cannot call A's server's tool, and B's skills cannot name it.
        var session = await server.CreateSessionAsync(b);
        await using var socket = await server.ConnectAsync(session, keyB);
        var frames = await socket.ChatAsync("use tool mine.echo {\"text\": \"x\"}");
        Assert.Contains("no tool named 'mine.echo'", Assert.Single(frames, f => f.Type() == "step" && f.Str("phase") == "end").Str("error"), StringComparison.Ordinal);
        using var skill = await b.PostAsJsonAsync("/api/v1/skills", new { name = "s", keywords = new[] { "k" }, instructions = "i", tools = new[] { "mine.echo" } });
        Assert.Equal(HttpStatusCode.BadRequest, skill.StatusCode);
        using var ownSkill = await a.PostAsJsonAsync("/api/v1/skills", new { name = "s", keywords = new[] { "k" }, instructions = "i", tools = new[] { "mine.echo" } });
        Assert.Equal(HttpStatusCode.Created, ownSkill.StatusCode);
    }

    [Fact]
    public async Task TheOperatorsServersReachEveryTenantAndATenantsOwnServerOfTheSameNameComesFirst()
    {
        await using var fake = await FakeMcpServer.StartAsync();
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?> { ["Conclave:Mcp:AllowedHosts:0"] = "127.0.0.1" });
        await McpTestServers.RegisterOkAsync(server.Http, new { name = "shared", transport = "http", url = fake.Endpoint.ToString(), confirmation = "always" });
        var (_, key) = await server.CreateTenantKeyAsync();
        using var tenant = server.CreateClient(key);
        Assert.True((await McpTestServers.ToolsAsync(tenant))["shared.echo"].GetProperty("requires_confirmation").GetBoolean());

        await McpTestServers.RegisterOkAsync(tenant, new { name = "shared", transport = "http", url = fake.Endpoint.ToString(), confirmation = "never" });
        Assert.False((await McpTestServers.ToolsAsync(tenant))["shared.echo"].GetProperty("requires_confirmation").GetBoolean());
        Assert.True((await McpTestServers.ToolsAsync(server.Http))["shared.echo"].GetProperty("requires_confirmation").GetBoolean());
    }

    [Fact]
    public async Task RegistrationsAreCheckedReplacedAndRemoved()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var invalid = new object[]
        {
            new { name = "has.dot", transport = "http", url = "https://example.com/mcp" },
            new { name = "x", transport = "ftp", url = "ftp://example.com" },
            new { name = "x", transport = "http", url = "not-a-url" },
            new { name = "x", transport = "http", url = "https://user:pw@example.com/mcp" },
            new { name = "x", transport = "http" },
            new { name = "x", transport = "stdio" },
            new { name = "x", transport = "stdio", command = "/bin/true", url = "https://example.com" },
            new { name = "x", transport = "stdio", command = "/bin/true", env = new Dictionary<string, string> { ["1BAD"] = "v" } },
            new { name = "x", transport = "stdio", command = "/bin/true", confirmation = "sometimes" },
            new { name = "x", transport = "stdio", command = "/bin/true", tool_confirmation = new Dictionary<string, string> { ["t"] = "maybe" } },
            new { name = "x", transport = "stdio", command = "/bin/true", timeout_seconds = 0 },
        };
        foreach (var body in invalid)
        {
            using var response = await McpTestServers.RegisterAsync(server.Http, body);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{JsonSerializer.Serialize(body)} was {response.StatusCode}");
        }

        var created = await McpTestServers.RegisterOkAsync(server.Http, new { name = "tool-box", transport = "stdio", command = "/bin/true", args = new[] { "a" } });
        Assert.Equal("annotations", created.Str("confirmation"));
        using (var again = await McpTestServers.RegisterAsync(server.Http, new { name = "tool-box", transport = "stdio", command = "/bin/true" }))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        }

        using (var put = await server.Http.PutAsJsonAsync("/api/v1/mcp-servers/tool-box", new { transport = "stdio", command = "/bin/false", confirmation = "never" }))
        {
            put.EnsureSuccessStatusCode();
        }

        var replaced = await server.Http.GetFromJsonAsync<JsonElement>("/api/v1/mcp-servers/tool-box");
        Assert.Equal("/bin/false", replaced.Str("command"));
        Assert.Equal("never", replaced.Str("confirmation"));
        Assert.Equal(created.Str("created_at"), replaced.Str("created_at"));

        using (var delete = await server.Http.DeleteAsync("/api/v1/mcp-servers/tool-box"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        using var gone = await server.Http.GetAsync("/api/v1/mcp-servers/tool-box");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }
}
