using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Agents.Tools;
using Conclave.Mcp;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Server.Tests.Mcp;

/// <summary>Agents use the reference MCP servers from npm over stdio, registered by the admin, through real runs.</summary>
public sealed class McpStdioTests
{
    [Fact]
    public async Task AnAgentListsReadsAndWritesThroughTheFilesystemServerWithApprovalForWrites()
    {
        using var folder = new TempDataDir();
        await File.WriteAllTextAsync(Path.Combine(folder.Path, "a.txt"), "alpha");
        await using var server = await ConclaveTestServer.StartAsync();
        await McpTestServers.RegisterOkAsync(server.Http, new { name = "fs", transport = "stdio", command = McpTestServers.Filesystem, args = new[] { folder.Path } });

        var tools = await McpTestServers.ToolsAsync(server.Http);
        Assert.False(tools["fs.read_text_file"].GetProperty("requires_confirmation").GetBoolean());
        Assert.True(tools["fs.write_file"].GetProperty("requires_confirmation").GetBoolean());
        Assert.Equal("fs", tools["fs.write_file"].Str("server"));
        Assert.Equal("object", tools["fs.read_text_file"].GetProperty("parameters").Str("type"));

        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);

        // A read-only tool runs without asking.
        var read = await socket.ChatAsync($"use tool fs.read_text_file {{\"path\": {JsonSerializer.Serialize(Path.Combine(folder.Path, "a.txt"))}}}");
        Assert.DoesNotContain(read, f => f.Type() == "confirmation_request");
        var readStep = Assert.Single(read, f => f.Type() == "step" && f.Str("phase") == "end");
        Assert.Equal("fs.read_text_file", readStep.Str("tool"));
        Assert.Contains("alpha", read[^1].Str("content"), StringComparison.Ordinal);

        // A destructive one waits for approval, then writes.
        var target = Path.Combine(folder.Path, "b.txt");
        await socket.SendAsync(new { type = "message", content = $"use tool fs.write_file {{\"path\": {JsonSerializer.Serialize(target)}, \"content\": \"beta\"}}" });
        var request = await socket.ReceiveTypeAsync("confirmation_request");
        Assert.Equal("fs.write_file", request.Str("tool"));
        Assert.Equal(target, request.GetProperty("arguments").Str("path"));
        Assert.False(File.Exists(target));
        await socket.SendAsync(new { type = "confirmation_reply", request_id = request.Str("request_id"), approved = true });
        var written = await socket.ReceiveRunEndAsync();
        Assert.Equal("final_answer", written[^1].Type());
        Assert.Equal("beta", await File.ReadAllTextAsync(target));

        var listed = await socket.ChatAsync($"use tool fs.list_directory {{\"path\": {JsonSerializer.Serialize(folder.Path)}}}");
        Assert.Contains("[FILE] a.txt", listed[^1].Str("content"), StringComparison.Ordinal);
        Assert.Contains("[FILE] b.txt", listed[^1].Str("content"), StringComparison.Ordinal);

        // Outside its folder the server refuses, and the model reads why.
        var outside = await socket.ChatAsync("use tool fs.read_text_file {\"path\": \"/etc/hostname\"}");
        var outsideStep = Assert.Single(outside, f => f.Type() == "step" && f.Str("phase") == "end");
        Assert.Contains("Access denied", outsideStep.Str("error"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AServersRequestForInputIsAnAskHumanAndTheReplyGoesBackToIt()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        await McpTestServers.RegisterOkAsync(server.Http, new
        {
            name = "everything",
            transport = "stdio",
            command = McpTestServers.Everything,
            tool_confirmation = new Dictionary<string, string> { ["trigger-elicitation-request"] = "never" },
        });
        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);

        await socket.SendAsync(new { type = "message", content = "use tool everything.trigger-elicitation-request" });
        var ask = await socket.ReceiveTypeAsync("ask_human");
        Assert.Contains("The MCP server 'everything' asks", ask.Str("question"), StringComparison.Ordinal);
        Assert.Contains("name", ask.Str("question"), StringComparison.Ordinal);
        var reconnected = await server.ConnectAsync(session);
        await using (reconnected)
        {
            Assert.Contains(reconnected.Connected.GetProperty("pending").EnumerateArray(), p => p.Str("request_id") == ask.Str("request_id"));
        }

        await socket.SendAsync(new { type = "reply", request_id = ask.Str("request_id"), content = "{\"name\": \"Ada\"}" });
        var frames = await socket.ReceiveRunEndAsync();
        Assert.Equal("final_answer", frames[^1].Type());
        Assert.Contains("User provided the requested information", frames[^1].Str("content"), StringComparison.Ordinal);
        Assert.Contains("Ada", frames[^1].Str("content"), StringComparison.Ordinal);

        await socket.SendAsync(new { type = "message", content = "use tool everything.trigger-elicitation-request" });
        var second = await socket.ReceiveTypeAsync("ask_human");
        await socket.SendAsync(new { type = "reply", request_id = second.Str("request_id"), content = "decline" });
        var declined = await socket.ReceiveRunEndAsync();
        Assert.Contains("declined", declined[^1].Str("content"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStdioServerGetsAMinimalEnvironmentWithItsOwnSecretsWhichTheApiNeverReturns()
    {
        Environment.SetEnvironmentVariable("CONCLAVE_TEST_HOST_SECRET", "host-only-value");
        await using var server = await ConclaveTestServer.StartAsync();
        var registered = await McpTestServers.RegisterOkAsync(server.Http, new
        {
            name = "everything",
            transport = "stdio",
            command = McpTestServers.Everything,
            env = new Dictionary<string, string> { ["MCP_TEST_TOKEN"] = "token-value-42" },
            confirmation = "never",
        });
        Assert.Equal(["MCP_TEST_TOKEN"], registered.GetProperty("env_names").EnumerateArray().Select(e => e.GetString()));
        var stored = await server.Http.GetStringAsync("/api/v1/mcp-servers/everything");
        Assert.DoesNotContain("token-value-42", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("token-value-42", await server.Http.GetStringAsync("/api/v1/mcp-servers"), StringComparison.Ordinal);

        // At rest, the secret is not in the database (nor its write-ahead log) in the clear; later, the tool's output holds it.
        foreach (var file in Directory.GetFiles(server.DataDir, "conclave.db*"))
        {
            await using var db = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            Assert.False(await ContainsAsync(db, "token-value-42"), file);
        }

        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);
        var frames = await socket.ChatAsync("use tool everything.get-env");
        Assert.DoesNotContain(frames, f => f.Type() == "confirmation_request");
        var environment = frames[^1].Str("content")!;
        Assert.Contains("token-value-42", environment, StringComparison.Ordinal);
        Assert.Contains("PATH", environment, StringComparison.Ordinal);
        Assert.DoesNotContain("host-only-value", environment, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AlwaysAndPerToolPoliciesDecideWhichCallsAsk()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        await McpTestServers.RegisterOkAsync(server.Http, new
        {
            name = "everything",
            transport = "stdio",
            command = McpTestServers.Everything,
            confirmation = "always",
            tool_confirmation = new Dictionary<string, string> { ["get-sum"] = "never" },
        });
        var tools = await McpTestServers.ToolsAsync(server.Http);
        Assert.True(tools["everything.echo"].GetProperty("requires_confirmation").GetBoolean());
        Assert.False(tools["everything.get-sum"].GetProperty("requires_confirmation").GetBoolean());

        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);
        var sum = await socket.ChatAsync("use tool everything.get-sum {\"a\": 2, \"b\": 3.5}");
        Assert.DoesNotContain(sum, f => f.Type() == "confirmation_request");
        Assert.Contains("5.5", sum[^1].Str("content"), StringComparison.Ordinal);

        await socket.SendAsync(new { type = "message", content = "use tool everything.echo {\"message\": \"hi\"}" });
        var request = await socket.ReceiveTypeAsync("confirmation_request");
        Assert.Equal("everything.echo", request.Str("tool"));
        Assert.Equal("hi", request.GetProperty("arguments").Str("message"));
        await socket.SendAsync(new { type = "confirmation_reply", request_id = request.Str("request_id"), approved = false });
        var denied = await socket.ReceiveRunEndAsync();
        Assert.StartsWith("Tool everything.echo was not run:", denied[^1].Str("content"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnIdleStdioServerIsStoppedAndStartedAgainAtItsNextUse()
    {
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?> { ["Conclave:Mcp:IdleSeconds"] = "1" });
        var marker = await RegisterMarkedEverythingAsync(server.Http, confirmation: "never");
        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);

        Assert.Contains("Echo: one", (await socket.ChatAsync("use tool everything.echo {\"message\": \"one\"}"))[^1].Str("content"), StringComparison.Ordinal);

        // The server's process (found by its marker) goes once the connection has been idle; Conclave still runs.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (ProcessesWith(marker).Count > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the idle stdio server was not stopped");
            await Task.Delay(100);
        }

        // The server starts again for this call: on a busy machine a Node process takes a while.
        var again = await socket.ChatAsync("use tool everything.echo {\"message\": \"two\"}", TimeSpan.FromSeconds(60));
        Assert.Contains("Echo: two", again[^1].Str("content"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StdioServersStopWithConclave()
    {
        var server = await ConclaveTestServer.StartAsync();
        var marker = await RegisterMarkedEverythingAsync(server.Http, confirmation: "never");
        try
        {
            var session = await server.CreateSessionAsync();
            await using var socket = await server.ConnectAsync(session);
            await socket.ChatAsync("use tool everything.echo {\"message\": \"up\"}");
            Assert.NotEmpty(ProcessesWith(marker));
        }
        finally
        {
            await server.DisposeAsync();
        }

        Assert.Empty(ProcessesWith(marker));
    }

    [Fact]
    public async Task AToolListedBeforeItsConnectionClosedCallsThroughANewOneThatIsClosedWithConclave()
    {
        var server = await ConclaveTestServer.StartAsync();
        var marker = await RegisterMarkedEverythingAsync(server.Http);
        try
        {
            var tools = await server.Services.GetRequiredService<McpToolSource>().ListAsync("admin");
            var echo = tools.Single(t => t.Name == "everything.echo");
            var connections = server.Services.GetRequiredService<McpConnections>();
            await connections.CloseAsync("admin", "everything");
            Assert.Empty(ProcessesWith(marker));

            var arguments = new AIFunctionArguments(new Dictionary<string, object?> { ["message"] = "again" })
            {
                Context = new Dictionary<object, object?> { [typeof(ToolContext)] = new ToolContext(new Workspace(Path.GetTempPath()), new NoHuman()) },
            };
            Assert.Equal("Echo: again", await echo.Function.InvokeAsync(arguments));
            Assert.Equal(1, connections.Count);
            Assert.NotEmpty(ProcessesWith(marker));
        }
        finally
        {
            await server.DisposeAsync();
        }

        Assert.Empty(ProcessesWith(marker));
    }

    /// <summary>
    /// Registers server-everything over stdio with a marker in its environment, by which <see cref="ProcessesWith"/> finds
    /// its process; returns the marker.
    /// </summary>
    private static async Task<string> RegisterMarkedEverythingAsync(HttpClient http, string? confirmation = null)
    {
        var marker = Guid.NewGuid().ToString("N");
        var registration = new Dictionary<string, object>
        {
            ["name"] = "everything",
            ["transport"] = "stdio",
            ["command"] = McpTestServers.Everything,
            ["env"] = new Dictionary<string, string> { ["CONCLAVE_TEST_MARKER"] = marker },
        };
        if (confirmation is not null)
        {
            registration["confirmation"] = confirmation;
        }

        await McpTestServers.RegisterOkAsync(http, registration);
        return marker;
    }

    /// <summary>The processes whose environment holds <paramref name="marker"/>.</summary>
    private static List<string> ProcessesWith(string marker)
    {
        var found = new List<string>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "environ")).Contains(marker, StringComparison.Ordinal))
                {
                    found.Add(Path.GetFileName(dir));
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Gone, or not ours to read.
            }
        }

        return found;
    }

    private static async Task<bool> ContainsAsync(System.IO.Stream stream, string text)
    {
        using var memory = new MemoryStream();
        await stream.CopyToAsync(memory);
        return memory.ToArray().AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(text)) >= 0;
    }

    private sealed class NoHuman : IHumanChannel
    {
        public Task<string> AskAsync(string question, IReadOnlyList<string>? options, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("No one to ask in this test.");
    }
}
