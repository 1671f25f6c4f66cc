using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.Extensions.AI;

namespace Conclave.Server.Tests.Models;

public sealed class ModelSettingsTests
{
    [Theory]
    [InlineData("gemini", null, null, null, "Conclave:Llm:Provider")]
    [InlineData("openai", null, "sk-x", null, "Conclave:Llm:Model")]
    [InlineData("ollama", null, null, null, "Conclave:Llm:Model")]
    [InlineData("openai", "gpt-x", null, null, "Conclave:Llm:ApiKey")]
    [InlineData("anthropic", "claude-x", null, "http://127.0.0.1:9/", "Conclave:Llm:ApiKey")]
    public async Task WrongModelSettingsStopTheStartNamingTheSetting(string provider, string? model, string? key, string? endpoint, string setting)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Conclave:Llm:Provider"] = provider,
            ["Conclave:Llm:Model"] = model,
            ["Conclave:Llm:ApiKey"] = key,
            ["Conclave:Llm:Endpoint"] = endpoint,
        };

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => ConclaveTestServer.StartAsync(settings));

        Assert.Contains(setting, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LocalOpenAICompatibleServerNeedsNoKey()
    {
        await using var provider = await ReplayServer.StartAsync(new ReplayResponse(200, "application/json", ["{}"]));
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Conclave:Llm:Provider"] = "openai",
            ["Conclave:Llm:Model"] = "local-model",
            ["Conclave:Llm:Endpoint"] = new Uri(provider.BaseUri, "/v1/").ToString(),
        });

        var ready = await server.Http.GetFromJsonAsync<JsonElement>("/readyz");

        Assert.Equal("openai", ready.Str("provider"));
        Assert.Equal("local-model", ready.Str("model"));
        Assert.False(Assert.Single(provider.Requests).Headers.ContainsKey("Authorization"));
    }

    [Fact]
    public async Task ReadinessNamesProviderAndModelButNeverTheKey()
    {
        await using var provider = await ReplayServer.StartAsync(new ReplayResponse(200, "application/json", ["{}"]));
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Conclave:Llm:Provider"] = "anthropic",
            ["Conclave:Llm:Model"] = "claude-x",
            ["Conclave:Llm:ApiKey"] = "sk-ant-secret-123",
            ["Conclave:Llm:Endpoint"] = provider.BaseUri.ToString(),
        });

        var body = await server.CreateClient(null).GetStringAsync("/readyz");

        Assert.Contains("\"provider\":\"anthropic\"", body, StringComparison.Ordinal);
        Assert.Contains("\"model\":\"claude-x\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-ant-secret-123", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OldestTurnsLeaveTheContextFirstButTheSystemPromptAndNewestMessageStay()
    {
        var model = new ScriptedChatClient((_, _, _) => ScriptedChatClient.Answer(string.Join(' ', Enumerable.Repeat("filler", 100))));
        await using var server = await ConclaveTestServer.StartAsync(
            new Dictionary<string, string?> { ["Conclave:Llm:MaxContextTokens"] = "256" }, model: model);
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        for (var i = 1; i <= 4; i++)
        {
            await socket.ChatAsync($"message number {i}");
        }

        var last = model.Calls[^1].Messages;
        Assert.Equal(ChatRole.System, last[0].Role);
        Assert.Equal("message number 4", last[^1].Text);
        Assert.DoesNotContain(last, m => m.Text == "message number 1");
        Assert.True(last.Count < 8, $"{last.Count} messages were sent");
        Assert.Contains(last, m => m.Text == "message number 3");
    }

    [Fact]
    public async Task SkillModelReachesTheModelCall()
    {
        var model = new ScriptedChatClient((_, _, _) => ScriptedChatClient.Answer("ok"));
        await using var server = await ConclaveTestServer.StartAsync(model: model);
        await server.Http.PostAsJsonAsync("/api/v1/skills", new { name = "big", description = "", keywords = new[] { "deep" }, instructions = "Think.", model = "large-model" });
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        await socket.ChatAsync("go deep");

        var options = model.Calls.Single().Options!;
        Assert.Equal("large-model", options.ModelId);
    }

    [Fact]
    public async Task TemperatureAndOutputLimitAreSentToTheProvider()
    {
        var wire = new OpenAIWire();
        await using var provider = await ReplayServer.StartAsync(new ReplayResponse(200, wire.ContentType, wire.Text(["ok"], 1, 1)));
        var settings = wire.Settings(provider.BaseUri);
        settings["Conclave:Llm:Temperature"] = "0.25";
        settings["Conclave:Llm:MaxOutputTokens"] = "512";
        await using var server = await ConclaveTestServer.StartAsync(settings);
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        await socket.ChatAsync("hi");

        using var body = JsonDocument.Parse(Assert.Single(provider.Requests).Body);
        Assert.Equal(0.25, body.RootElement.GetProperty("temperature").GetDouble(), 3);
        var limit = body.RootElement.TryGetProperty("max_completion_tokens", out var completion) ? completion : body.RootElement.GetProperty("max_tokens");
        Assert.Equal(512, limit.GetInt32());
        Assert.True(body.RootElement.GetProperty("stream").GetBoolean());
    }

    [Theory]
    [InlineData("Debug", true)]
    [InlineData("Information", false)]
    public async Task ModelCallsAreLoggedWhileTheLoggingClientsCategoryLogsAtDebug(string level, bool logged)
    {
        await using var server = await ConclaveTestServer.StartAsync(
            new Dictionary<string, string?> { ["Logging:LogLevel:Microsoft.Extensions.AI.LoggingChatClient"] = level });
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        await socket.ChatAsync("stream 3 words");

        Assert.Equal(logged, server.Logs.Lines.Any(l => l.Contains("Microsoft.Extensions.AI.LoggingChatClient: GetStreamingResponseAsync", StringComparison.Ordinal)));
    }
}
