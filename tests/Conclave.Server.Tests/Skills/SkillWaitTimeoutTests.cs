using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests.Skills;

/// <summary>A skill may set how long its runs' confirmations and questions wait, in place of the server's settings.</summary>
public sealed class SkillWaitTimeoutTests
{
    private const string WriteFile = "use tool write_file {\"path\": \"notes/a.txt\", \"content\": \"hello\"}";

    [Fact]
    public async Task ASkillWithoutAConfirmationLimitOverridesTheServersShortOne()
    {
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?> { ["Conclave:Confirmation:TimeoutSeconds"] = "1" });
        await CreateSkillAsync(server, new { name = "scribe", keywords = new[] { "write_file" }, instructions = "Write.", confirmation_timeout_seconds = 0 });
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());
        await socket.SendAsync(new { type = "message", content = WriteFile });
        var request = await socket.ReceiveTypeAsync("confirmation_request");

        await Task.Delay(TimeSpan.FromSeconds(1.5)); // past the server's own timeout
        await socket.SendAsync(new { type = "confirmation_reply", request_id = request.Str("request_id"), approved = true });
        var frames = await socket.ReceiveRunEndAsync();

        Assert.False(request.TryGetProperty("expires_at", out _));
        Assert.Equal("user", Assert.Single(frames, f => f.Type() == "confirmation_result").Str("by"));
        Assert.StartsWith("Tool write_file returned:", frames[^1].Str("content"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASkillsShortQuestionLimitEndsItsQuestionAndOtherRunsKeepTheServers()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        await CreateSkillAsync(server, new { name = "hasty", keywords = new[] { "quick" }, instructions = "Be quick.", ask_human_timeout_seconds = 1 });
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var hasty = await socket.ChatAsync("ask me: quick, which?");
        await socket.SendAsync(new { type = "message", content = "ask me: which, slowly?" });
        var patient = await socket.ReceiveTypeAsync("ask_human");
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // past the skill's limit
        await socket.SendAsync(new { type = "reply", request_id = patient.Str("request_id"), content = "this" });
        var answered = await socket.ReceiveRunEndAsync();

        Assert.Equal("hasty", hasty.Single(f => f.Type() == "skill_match").Str("skill"));
        Assert.Equal("timeout", hasty[^1].Str("code"));
        Assert.Equal("You answered: this", answered[^1].Str("content"));
    }

    [Theory]
    [InlineData("confirmation_timeout_seconds", -1)]
    [InlineData("ask_human_timeout_seconds", 2_592_001)]
    public async Task ATimeoutOutOfRangeIsABadRequestNamingTheField(string field, int seconds)
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var body = new Dictionary<string, object> { ["name"] = "s", ["keywords"] = new[] { "k" }, ["instructions"] = "i", [field] = seconds };

        using var response = await server.Http.PostAsJsonAsync("/api/v1/skills", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.GetRawText());
        Assert.Empty(await server.Http.GetFromJsonAsync<List<JsonElement>>("/api/v1/skills") ?? []);
    }

    private static async Task CreateSkillAsync(ConclaveTestServer server, object skill)
    {
        using var created = await server.Http.PostAsJsonAsync("/api/v1/skills", skill);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }
}
