using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests.Chat;

/// <summary>
/// JSON may escape a lone surrogate (<c>"\ud800"</c>), which is no text at all: wherever client JSON is kept or
/// written back out, such a value is refused as a bad input, and the socket or the server goes on.
/// </summary>
public sealed class LoneSurrogateTests
{
    public static TheoryData<string> BadNonces => new()
    {
        """ "\ud800" """,
        """ "abc\udc00" """,
        """ "\ud800\ud800" """,
        """ ["ok", "\udfff"] """,
        """ {"\ud800": 1} """,
        """ {"k": ["x", {"y": "\ud83d"}]} """,
    };

    [Theory]
    [MemberData(nameof(BadNonces))]
    public async Task PingWithALoneSurrogateInItsNonceIsInvalidMessageAndTheSocketLives(string nonce)
    {
        await using var server = await ConclaveTestServer.StartAsync();
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        await socket.SendTextAsync($$"""{"type": "ping", "nonce": {{nonce}}}""");
        var error = await socket.ReceiveAsync();
        await socket.SendAsync(new { type = "ping", nonce = "after" });
        var pong = await socket.ReceiveAsync();

        Assert.Equal("error", error.Type());
        Assert.Equal("invalid_message", error.Str("code"));
        Assert.Contains("nonce", error.Str("message"), StringComparison.Ordinal);
        Assert.Equal("pong", pong.Type());
        Assert.Equal("after", pong.Str("nonce"));
    }

    [Fact]
    public async Task PingWithASurrogatePairIsEchoed()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        await socket.SendTextAsync("""{"type": "ping", "nonce": {"\ud83d\ude00": ["\u00e9", 1.5, null, true]}}""");
        var pong = await socket.ReceiveAsync();

        Assert.Equal("pong", pong.Type());
        var nonce = pong.GetProperty("nonce").GetProperty("😀");
        Assert.Equal("é", nonce[0].GetString());
        Assert.Equal(1.5, nonce[1].GetDouble());
    }

    [Fact]
    public async Task ToolArgumentsWithALoneSurrogateAreAToolErrorTheModelReads()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);

        // The message's text holds the six characters \ud800, which the builtin model reads as JSON.
        var frames = await socket.ChatAsync("""use tool calculator {"expression": "1+\ud800"}""");

        var end = Assert.Single(frames, f => f.Type() == "step" && f.Str("phase") == "end");
        Assert.Contains("not valid Unicode", end.Str("error"), StringComparison.Ordinal);
        Assert.Equal("final_answer", frames[^1].Type());
        Assert.StartsWith("Tool calculator was not run:", frames[^1].Str("content"), StringComparison.Ordinal);
        var stored = await server.Http.GetFromJsonAsync<JsonElement>($"/api/v1/sessions/{session}/events");
        Assert.Equal(frames.Count, stored.GetArrayLength());
        Assert.Equal("pong", (await PingAsync(socket)).Type());
    }

    [Fact]
    public async Task ToolArgumentsWithALoneSurrogateAreRepairedInTheConversationAProviderWritesOut()
    {
        // Like a real provider, the model writes the whole conversation out as JSON with every request.
        var model = new ScriptedChatClient((messages, _, _) =>
        {
            _ = JsonSerializer.Serialize(messages, Microsoft.Extensions.AI.AIJsonUtilities.DefaultOptions);
            return messages[^1].Contents.OfType<Microsoft.Extensions.AI.FunctionResultContent>().Any()
                ? ScriptedChatClient.Answer("read the error")
                : Runs.ModelFailureTests.Call("calculator", new Dictionary<string, object?>
                {
                    ["expression"] = JsonDocument.Parse("\"1+\\ud800\"").RootElement,
                });
        });
        await using var server = await ConclaveTestServer.StartAsync(model: model);
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("add");

        var end = Assert.Single(frames, f => f.Type() == "step" && f.Str("phase") == "end");
        Assert.Contains("not valid Unicode", end.Str("error"), StringComparison.Ordinal);
        Assert.Equal("1+\uFFFD", end.GetProperty("arguments").Str("expression"));
        Assert.Equal("read the error", frames[^1].Str("content"));
    }

    public static TheoryData<string, string, string> BadBodies => new()
    {
        { "/api/v1/sessions", """{"title": "a\ud800"}""", "title" },
        { "/api/v1/sessions", """{"metadata": {"k": "\udc00"}}""", "metadata" },
        { "/api/v1/sessions", """{"metadata": {"\ud800": 1}}""", "metadata" },
        { "/api/v1/skills", """{"name": "s", "keywords": ["\ud800"], "instructions": "i"}""", "keywords[0]" },
        { "/api/v1/skills", """{"name": "s", "keywords": ["k"], "instructions": "\ud800"}""", "instructions" },
        { "/api/v1/skills", """{"name": "s", "description": "\ud800", "keywords": ["k"], "instructions": "i"}""", "description" },
        { "/api/v1/experts", """{"name": "e", "role": "\ud800", "instructions": "i"}""", "role" },
        { "/api/v1/api-keys", """{"name": "\ud800"}""", "name" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task RestBodyWithALoneSurrogateIs400NamingTheFieldAndNothingIsKept(string path, string body, string field)
    {
        await using var server = await ConclaveTestServer.StartAsync();
        using var before = await server.Http.GetAsync(path);
        var kept = await before.Content.ReadAsStringAsync();

        using var response = await server.Http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));

        await ProblemAssert.NamesFieldAsync(response, field);
        Assert.Contains("not valid Unicode", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var after = await server.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(kept, await after.Content.ReadAsStringAsync());
    }

    private static async Task<JsonElement> PingAsync(TestSocket socket)
    {
        await socket.SendAsync(new { type = "ping" });
        return await socket.ReceiveAsync();
    }
}
