using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.Extensions.AI;

namespace Conclave.Server.Tests.Skills;

public sealed class SkillsTests
{
    [Fact]
    public async Task SkillCrudFollowsTheProtocol()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var skill = new { name = "poet", description = "Writes verse", keywords = new[] { "poem" }, instructions = "Answer in verse." };

        using var created = await server.Http.PostAsJsonAsync("/api/v1/skills", skill);
        using var duplicate = await server.Http.PostAsJsonAsync("/api/v1/skills", skill);
        using var upserted = await server.Http.PutAsJsonAsync("/api/v1/skills/poet", skill with { });
        using var upsertedNew = await server.Http.PutAsJsonAsync("/api/v1/skills/critic", new { description = "d", keywords = new[] { "review" }, instructions = "Be critical." });
        var list = await server.Http.GetFromJsonAsync<JsonElement>("/api/v1/skills");
        using var deleted = await server.Http.DeleteAsync("/api/v1/skills/poet");
        using var missing = await server.Http.GetAsync("/api/v1/skills/poet");
        using var deletedAgain = await server.Http.DeleteAsync("/api/v1/skills/poet");

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal(HttpStatusCode.OK, upserted.StatusCode);
        Assert.Equal(HttpStatusCode.OK, upsertedNew.StatusCode);
        Assert.Equal(["critic", "poet"], list.EnumerateArray().Select(s => s.Str("name")));
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, deletedAgain.StatusCode);
    }

    [Theory]
    [InlineData("{\"name\": \"s\", \"instructions\": \"i\"}", "keywords")]
    [InlineData("{\"name\": \"s\", \"keywords\": [], \"instructions\": \"i\"}", "keywords")]
    [InlineData("{\"name\": \"s\", \"keywords\": [\"k\"]}", "instructions")]
    [InlineData("{\"name\": \"bad name!\", \"keywords\": [\"k\"], \"instructions\": \"i\"}", "name")]
    [InlineData("{\"name\": \"s\", \"keywords\": [\"k\"], \"instructions\": \"i\", \"tools\": [\"teleport\"]}", "tools")]
    [InlineData("{\"name\": \"s\", \"keywords\": \"k\", \"instructions\": \"i\"}", "keywords")]
    public async Task BadSkillIs400NamingTheField(string body, string field)
    {
        await using var server = await ConclaveTestServer.StartAsync();

        using var response = await server.Http.PostAsync("/api/v1/skills", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        await ProblemAssert.NamesFieldAsync(response, field);
    }

    [Fact]
    public async Task MatchingSkillIsAnnouncedFirstAndShapesTheRun()
    {
        var model = new ScriptedChatClient((_, _, _) => ScriptedChatClient.Answer("ok"));
        await using var server = await ConclaveTestServer.StartAsync(model: model);
        await server.Http.PostAsJsonAsync("/api/v1/skills", new
        {
            name = "math",
            description = "Arithmetic",
            keywords = new[] { "sum", "add up" },
            instructions = "You only do arithmetic.",
            tools = new[] { "calculator" },
        });
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("Please ADD   UP these numbers");

        var match = frames[0];
        Assert.Equal("skill_match", match.Type());
        Assert.Equal("math", match.Str("skill"));
        Assert.Equal(0.5, match.GetProperty("score").GetDouble());
        Assert.Equal(["add up"], match.GetProperty("matched").EnumerateArray().Select(m => m.GetString()));
        var (messages, options) = model.Calls.Single();
        Assert.Equal("You only do arithmetic.", messages[0].Text);
        Assert.Equal(["calculator"], options!.Tools!.Select(t => t.Name));
    }

    [Fact]
    public async Task KeywordMatchesOnlyAsAWholeWord()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        await server.Http.PostAsJsonAsync("/api/v1/skills", new { name = "ws", description = "", keywords = new[] { "ws_skill_match" }, instructions = "i" });
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var partial = await socket.ChatAsync("use ws_skill_matcher please");
        var whole = await socket.ChatAsync("Please use WS_SKILL_MATCH for this");

        Assert.DoesNotContain(partial, f => f.Type() == "skill_match");
        Assert.Equal("skill_match", whole[0].Type());
    }

    [Fact]
    public async Task ForcedSkillShapesTheRunWithoutKeywordsAndUnknownSkillIsInvalidMessage()
    {
        var model = new ScriptedChatClient((_, _, _) => ScriptedChatClient.Answer("ok"));
        await using var server = await ConclaveTestServer.StartAsync(model: model);
        await server.Http.PostAsJsonAsync("/api/v1/skills", new { name = "pirate", description = "", keywords = new[] { "arr" }, instructions = "Talk like a pirate." });
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        await socket.SendAsync(new { type = "message", content = "hello", skill = "pirate" });
        var frames = await socket.ReceiveRunEndAsync();
        await socket.SendAsync(new { type = "message", content = "hello", skill = "ninja" });
        var error = await socket.ReceiveAsync();

        Assert.Equal("pirate", frames[0].Str("skill"));
        Assert.Equal(1.0, frames[0].GetProperty("score").GetDouble());
        Assert.Equal("Talk like a pirate.", model.Calls.Single().Messages[0].Text);
        Assert.Equal("invalid_message", error.Str("code"));
        Assert.False(error.TryGetProperty("event_id", out _));
    }

    [Fact]
    public async Task RunWithoutSkillGetsEveryToolAndTheDefaultPrompt()
    {
        var model = new ScriptedChatClient((_, _, _) => ScriptedChatClient.Answer("ok"));
        await using var server = await ConclaveTestServer.StartAsync(model: model);
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        await socket.ChatAsync("hello");

        var (messages, options) = model.Calls.Single();
        Assert.Equal(ChatRole.System, messages[0].Role);
        Assert.Contains("Conclave", messages[0].Text, StringComparison.Ordinal);
        Assert.Equal(
            ["calculator", "ask_human", "read_file", "list_files", "write_file", "http_get", "convene_team"],
            options!.Tools!.Select(t => t.Name));
    }
}
