using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.Extensions.AI;
using ModelContextProtocol.Server;

namespace Conclave.Server.Tests.Mcp;

/// <summary>
/// MCP servers over streamable HTTP: the reference server from npm, and the SDK's own server in this process for the
/// failures (a hang past the time limit, too much output, a cancel mid-call, a server that goes away and comes back, a
/// tool list that changes).
/// </summary>
public sealed class McpHttpTests
{
    private static readonly Dictionary<string, string?> LoopbackAllowed = new() { ["Conclave:Mcp:AllowedHosts:0"] = "127.0.0.1" };

    [Fact]
    public async Task TheReferenceServerOverHttpServesToolsWithStructuredOutput()
    {
        using var everything = await McpTestServers.StartEverythingOverHttpAsync();
        await using var server = await ConclaveTestServer.StartAsync(LoopbackAllowed);
        await McpTestServers.RegisterOkAsync(server.Http, new { name = "web", transport = "http", url = everything.Endpoint.ToString() });
        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);

        var echo = await socket.ChatAsync("use tool web.echo {\"message\": \"over http\"}");
        Assert.Equal("Tool web.echo returned: Echo: over http", echo[^1].Str("content"));

        var weather = await socket.ChatAsync("use tool web.get-structured-content {\"location\": \"Chicago\"}");
        var end = Assert.Single(weather, f => f.Type() == "step" && f.Str("phase") == "end");
        var result = end.GetProperty("result");
        Assert.Equal(JsonValueKind.Object, result.ValueKind);
        Assert.Equal(36, result.GetProperty("temperature").GetInt32());
    }

    [Fact]
    public async Task ACallThatHangsPastItsTimeLimitIsAToolErrorAndTheServerIsToldToStop()
    {
        await using var fake = await FakeMcpServer.StartAsync();
        await using var server = await ConclaveTestServer.StartAsync(LoopbackAllowed);
        await McpTestServers.RegisterOkAsync(server.Http, new { name = "fake", transport = "http", url = fake.Endpoint.ToString(), timeout_seconds = 1 });
        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);

        var frames = await socket.ChatAsync("use tool fake.hang");
        var end = Assert.Single(frames, f => f.Type() == "step" && f.Str("phase") == "end");
        Assert.Contains("went 1 s without finishing", end.Str("error"), StringComparison.Ordinal);
        Assert.Equal("final_answer", frames[^1].Type());
        await fake.HangCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // The connection still serves.
        Assert.Contains("echo: still", (await socket.ChatAsync("use tool fake.echo {\"text\": \"still\"}"))[^1].Str("content"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OutputOverTheLimitIsCutAndTheModelIsToldSo()
    {
        await using var fake = await FakeMcpServer.StartAsync();
        var settings = new Dictionary<string, string?>(LoopbackAllowed) { ["Conclave:Mcp:MaxOutputBytes"] = "2048" };
        await using var server = await ConclaveTestServer.StartAsync(settings);
        await McpTestServers.RegisterOkAsync(server.Http, new { name = "fake", transport = "http", url = fake.Endpoint.ToString() });
        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);

        var frames = await socket.ChatAsync("use tool fake.huge {\"bytes\": 1000000}");
        var result = Assert.Single(frames, f => f.Type() == "step" && f.Str("phase") == "end").Str("result")!;
        Assert.StartsWith(new string('x', 2048), result, StringComparison.Ordinal);
        Assert.EndsWith("[output cut: the first 2048 of 1000000 bytes]", result, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CancellingTheRunCancelsTheCallAtOnce()
    {
        await using var fake = await FakeMcpServer.StartAsync();
        await using var server = await ConclaveTestServer.StartAsync(LoopbackAllowed);
        await McpTestServers.RegisterOkAsync(server.Http, new { name = "fake", transport = "http", url = fake.Endpoint.ToString() });
        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);

        await socket.SendAsync(new { type = "message", content = "use tool fake.hang" });
        await fake.HangStarted.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await socket.SendAsync(new { type = "cancel" });
        var frames = await socket.ReceiveRunEndAsync();
        Assert.Equal("error", frames[^1].Type());
        Assert.Equal("cancelled", frames[^1].Str("code"));
        await fake.HangCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task AServerThatGoesAwayMidCallIsAToolErrorAndIsUsedAgainOnceItIsBack()
    {
        await using var fake = await FakeMcpServer.StartAsync();
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?>(LoopbackAllowed) { ["Conclave:Mcp:RetryAfterSeconds"] = "0" });
        await McpTestServers.RegisterOkAsync(server.Http, new { name = "fake", transport = "http", url = fake.Endpoint.ToString() });
        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);

        await socket.SendAsync(new { type = "message", content = "use tool fake.hang" });
        await fake.HangStarted.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await fake.StopAsync();
        var frames = await socket.ReceiveRunEndAsync();
        var end = Assert.Single(frames, f => f.Type() == "step" && f.Str("phase") == "end");
        Assert.Contains("The MCP server 'fake' failed during the call", end.Str("error"), StringComparison.Ordinal);
        Assert.Equal("final_answer", frames[^1].Type());

        // While it is down, a call says so; once it is back, calls work again.
        var down = await socket.ChatAsync("use tool fake.echo {\"text\": \"down\"}");
        Assert.Contains("fake", Assert.Single(down, f => f.Type() == "step" && f.Str("phase") == "end").Str("error"), StringComparison.Ordinal);
        await fake.StartAgainAsync();
        var back = await socket.ChatAsync("use tool fake.echo {\"text\": \"back\"}");
        Assert.Equal("Tool fake.echo returned: echo: back", back[^1].Str("content"));
    }

    [Fact]
    public async Task AChangeOfTheServersToolListIsPickedUp()
    {
        await using var fake = await FakeMcpServer.StartAsync();
        await using var server = await ConclaveTestServer.StartAsync(LoopbackAllowed);
        await McpTestServers.RegisterOkAsync(server.Http, new { name = "fake", transport = "http", url = fake.Endpoint.ToString() });
        Assert.DoesNotContain("fake.later", (await McpTestServers.ToolsAsync(server.Http)).Keys);

        fake.Tools.Add(McpServerTool.Create(() => "later", new McpServerToolCreateOptions { Name = "later", ReadOnly = true }));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!(await McpTestServers.ToolsAsync(server.Http)).ContainsKey("fake.later"))
        {
            Assert.True(DateTime.UtcNow < deadline, "the new tool did not appear");
            await Task.Delay(100);
        }

        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);
        Assert.Equal("Tool fake.later returned: later", (await socket.ChatAsync("use tool fake.later"))[^1].Str("content"));
    }

    [Fact]
    public async Task AModelIsOfferedNamesEveryProviderTakesAndACallByThatNameShowsTheNamespacedTool()
    {
        await using var fake = await FakeMcpServer.StartAsync();
        var model = new ScriptedChatClient((messages, _, _) => messages[^1].Role == ChatRole.Tool
            ? ScriptedChatClient.Answer("done")
            : Call(new FunctionCallContent("c1", "fake__echo", new Dictionary<string, object?> { ["text"] = "wire" })));
        await using var server = await ConclaveTestServer.StartAsync(LoopbackAllowed, model);
        await McpTestServers.RegisterOkAsync(server.Http, new { name = "fake", transport = "http", url = fake.Endpoint.ToString() });
        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);

        var frames = await socket.ChatAsync("echo through the server");

        var offered = model.Calls[0].Options!.Tools!.Select(t => t.Name).ToList();
        Assert.Contains("fake__echo", offered);
        Assert.All(offered, name => Assert.Matches("^[A-Za-z0-9_-]{1,64}$", name));
        var end = Assert.Single(frames, f => f.Type() == "step" && f.Str("phase") == "end");
        Assert.Equal("fake.echo", end.Str("tool"));
        Assert.Equal("echo: wire", end.Str("result"));
        Assert.Equal("done", frames[^1].Str("content"));
    }

    [Fact]
    public async Task HeadersAreSentToTheServerButNeverReturnedNorStoredInTheClear()
    {
        await using var fake = await FakeMcpServer.StartAsync();
        await using var server = await ConclaveTestServer.StartAsync(LoopbackAllowed);
        var registered = await McpTestServers.RegisterOkAsync(server.Http, new
        {
            name = "fake",
            transport = "http",
            url = fake.Endpoint.ToString(),
            headers = new Dictionary<string, string> { ["X-Token"] = "header-secret-77" },
        });
        Assert.Equal(["X-Token"], registered.GetProperty("header_names").EnumerateArray().Select(e => e.GetString()));
        Assert.DoesNotContain("header-secret-77", registered.GetRawText(), StringComparison.Ordinal);

        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);
        await socket.ChatAsync("use tool fake.echo {\"text\": \"x\"}");
        Assert.Contains("header-secret-77", fake.Tokens);
        Assert.DoesNotContain(server.Logs.Lines, l => l.Contains("header-secret-77", StringComparison.Ordinal));
    }

    private static async IAsyncEnumerable<ChatResponseUpdate> Call(FunctionCallContent call)
    {
        await Task.Yield();
        yield return new ChatResponseUpdate(ChatRole.Assistant, [call]);
    }
}
