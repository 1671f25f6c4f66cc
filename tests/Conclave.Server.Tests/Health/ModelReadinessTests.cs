using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;
using Conclave.Server.Tests.Models;

namespace Conclave.Server.Tests.Health;

/// <summary><c>/readyz</c> probes the configured model endpoint, replayed on loopback.</summary>
public sealed class ModelReadinessTests
{
    public static TheoryData<ProviderWire> Wires => [new OpenAIWire(), new OllamaWire(), new AnthropicWire()];

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task ReadyWhileTheModelEndpointAnswersAndNotReadyOnceItStops(ProviderWire wire)
    {
        var provider = await ReplayServer.StartAsync(new ReplayResponse(200, "application/json", ["{}"]));
        var settings = wire.Settings(provider.BaseUri);
        settings["Conclave:Llm:ReadinessCacheSeconds"] = "0";
        await using var server = await ConclaveTestServer.StartAsync(settings);
        var anonymous = server.CreateClient(null);
        var key = settings.GetValueOrDefault("Conclave:Llm:ApiKey");
        try
        {
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/readyz")).StatusCode);
            var probe = Assert.Single(provider.Requests);
            Assert.Equal(wire.ProbePath, probe.Path);
            if (key is not null)
            {
                Assert.Contains(key, wire is AnthropicWire ? probe.Headers["x-api-key"].ToString() : probe.Headers.Authorization.ToString(), StringComparison.Ordinal);
            }
        }
        finally
        {
            await provider.DisposeAsync();
        }

        var down = await anonymous.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        var body = await down.Content.ReadAsStringAsync();
        var detail = JsonDocument.Parse(body).RootElement.Str("detail");
        Assert.StartsWith($"The model endpoint is not ready: {wire.Name} at {settings["Conclave:Llm:Endpoint"]} cannot be reached: ", detail, StringComparison.Ordinal);
        Assert.DoesNotContain(key ?? "sk-", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusedKeyMakesTheServerNotReady()
    {
        await using var provider = await ReplayServer.StartAsync(new ReplayResponse(401, "application/json", ["""{"error": {"message": "bad key"}}"""]));
        var settings = new OpenAIWire().Settings(provider.BaseUri);
        await using var server = await ConclaveTestServer.StartAsync(settings);

        var down = await server.CreateClient(null).GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.Equal(
            $"The model endpoint is not ready: openai at {settings["Conclave:Llm:Endpoint"]} refuses the API key (401 Unauthorized).",
            (await down.Content.ReadFromJsonAsync<JsonElement>()).Str("detail"));
    }

    [Fact]
    public async Task TheProbeIsKeptForTheCacheTime()
    {
        await using var provider = await ReplayServer.StartAsync(new ReplayResponse(200, "application/json", ["{}"]));
        var settings = new OllamaWire().Settings(provider.BaseUri);
        settings["Conclave:Llm:ReadinessCacheSeconds"] = "600";
        await using var server = await ConclaveTestServer.StartAsync(settings);
        var anonymous = server.CreateClient(null);

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/readyz")).StatusCode);
        }

        Assert.Single(provider.Requests);
    }
}
