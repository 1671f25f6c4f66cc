using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests.Health;

public sealed class HealthAndOpenApiTests
{
    [Fact]
    public async Task HealthAndReadinessAnswerWithoutAKey()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        using var anonymous = server.CreateClient(null);

        using var health = await anonymous.GetAsync("/healthz");
        var ready = await anonymous.GetFromJsonAsync<JsonElement>("/readyz");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("ready", ready.Str("status"));
        Assert.Equal("builtin", ready.Str("provider"));
        Assert.Equal("sqlite", ready.Str("storage"));
        Assert.Equal(JsonValueKind.Null, ready.GetProperty("redis").ValueKind);
        Assert.DoesNotContain(ConclaveTestServer.AdminKey, ready.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenApiDescribesEveryEndpointAndTheKeyScheme()
    {
        await using var server = await ConclaveTestServer.StartAsync();

        var document = await server.CreateClient(null).GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var paths = document.GetProperty("paths");
        foreach (var path in new[]
        {
            "/api/v1/sessions", "/api/v1/sessions/{id}", "/api/v1/sessions/{id}/messages", "/api/v1/sessions/{id}/events",
            "/api/v1/skills", "/api/v1/skills/{name}", "/api/v1/experts", "/api/v1/experts/{name}", "/api/v1/tools", "/api/v1/api-keys", "/api/v1/api-keys/{id}",
            "/api/v1/chat/ws/{sessionId}", "/healthz", "/readyz",
        })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is not described");
        }

        var schemas = document.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.TryGetProperty("SkillRequest", out var skill));
        Assert.True(skill.GetProperty("properties").TryGetProperty("keywords", out _));
        Assert.Equal("X-API-Key", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey").Str("name"));
    }

    [Fact]
    public async Task ToolsListsEveryBuiltInToolWithItsConfirmationRuleAndSchema()
    {
        await using var server = await ConclaveTestServer.StartAsync();

        var tools = await server.Http.GetFromJsonAsync<JsonElement>("/api/v1/tools");

        var byName = tools.EnumerateArray().ToDictionary(t => t.Str("name")!);
        Assert.Equal(["ask_human", "calculator", "convene_team", "http_get", "list_files", "read_file", "write_file"], byName.Keys.Order());
        Assert.True(byName["write_file"].GetProperty("requires_confirmation").GetBoolean());
        Assert.True(byName["http_get"].GetProperty("requires_confirmation").GetBoolean());
        Assert.False(byName["read_file"].GetProperty("requires_confirmation").GetBoolean());
        Assert.True(byName["calculator"].GetProperty("parameters").GetProperty("properties").TryGetProperty("expression", out _));
        Assert.All(byName.Values, t => Assert.False(string.IsNullOrEmpty(t.Str("description"))));
    }
}
