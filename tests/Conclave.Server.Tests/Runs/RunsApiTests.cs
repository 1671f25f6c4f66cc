using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Agents.Events;
using Conclave.Agents.Runs;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Server.Tests.Runs;

/// <summary><c>/api/v1/runs</c>, and what revoking a key does to the runs of its tenant.</summary>
public sealed class RunsApiTests
{
    private static readonly Dictionary<string, string?> SlowModel = new() { ["Conclave:Llm:Builtin:TokenDelayMs"] = "50" };

    [Fact]
    public async Task RevokingAKeyEndsItsRunsWithCancelledBeforeTheRevokeAnswers()
    {
        await using var server = await ConclaveTestServer.StartAsync(SlowModel);
        var (id, key) = await server.CreateTenantKeyAsync();
        await using var socket = await StartStreamingRunAsync(server, key);
        var session = socket.Connected.Str("session_id")!;

        using var revoked = await server.Http.DeleteAsync($"/api/v1/api-keys/{id}");
        var runs = server.Services.GetRequiredService<RunCoordinator>();
        var events = await server.Services.GetRequiredService<IEventStore>().ReadAfterAsync(session, 0, 10_000);
        await Task.Delay(300); // a run still streaming would add events meanwhile
        var later = await server.Services.GetRequiredService<IEventStore>().ReadAfterAsync(session, 0, 10_000);

        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Empty(runs.ListActive());
        var terminal = JsonDocument.Parse(events[^1].Utf8Json).RootElement;
        Assert.Equal("error", terminal.Type());
        Assert.Equal("cancelled", terminal.Str("code"));
        Assert.Contains("revoked", terminal.Str("message"), StringComparison.Ordinal);
        Assert.Equal(events.Count, later.Count);
    }

    [Fact]
    public async Task ARevokedTenantStartsNoRunEvenWhenItsStartWasAlreadyUnderWay()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var (id, key) = await server.CreateTenantKeyAsync();
        var session = await server.CreateSessionAsync(server.CreateClient(key));
        var runs = server.Services.GetRequiredService<RunCoordinator>();

        using var revoked = await server.Http.DeleteAsync($"/api/v1/api-keys/{id}");
        var started = await runs.StartAsync(new RunRequest(id, session, "stream 3 words"));

        Assert.False(started.Started);
        Assert.Equal("cancelled", started.ErrorCode);
        Assert.Empty(runs.ListActive());
    }

    [Fact]
    public async Task TheAdminSeesEveryTenantsRunsAndATenantOnlyItsOwn()
    {
        await using var server = await ConclaveTestServer.StartAsync(SlowModel);
        var (tenantId, key) = await server.CreateTenantKeyAsync("a");
        var (_, otherKey) = await server.CreateTenantKeyAsync("b");
        using var tenant = server.CreateClient(key);
        using var other = server.CreateClient(otherKey);
        await using var socket = await StartStreamingRunAsync(server, key);
        var session = socket.Connected.Str("session_id");
        var runId = socket.Received[^1].Str("run_id");

        var asAdmin = await server.Http.GetFromJsonAsync<List<JsonElement>>("/api/v1/runs");
        var asTenant = await tenant.GetFromJsonAsync<List<JsonElement>>("/api/v1/runs");
        var asOther = await other.GetFromJsonAsync<List<JsonElement>>("/api/v1/runs");
        using var otherGet = await other.GetAsync($"/api/v1/runs/{runId}");
        using var otherCancel = await other.PostAsync($"/api/v1/runs/{runId}/cancel", null);

        var listed = Assert.Single(asAdmin!);
        Assert.Equal(runId, listed.Str("run_id"));
        Assert.Equal(session, listed.Str("session_id"));
        Assert.Equal(tenantId, listed.Str("tenant_id"));
        Assert.Equal(0, listed.GetProperty("pending_requests").GetInt32());
        Assert.Equal(runId, Assert.Single(asTenant!).Str("run_id"));
        Assert.Empty(asOther!);
        Assert.Equal(HttpStatusCode.NotFound, otherGet.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, otherCancel.StatusCode);
        Assert.Equal("application/problem+json", otherCancel.Content.Headers.ContentType?.MediaType);
        Assert.Equal(runId, (await server.Http.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}")).Str("run_id"));
    }

    [Fact]
    public async Task TheAdminCancelsATenantsRunAndTheTenantIsToldWhoDid()
    {
        await using var server = await ConclaveTestServer.StartAsync(SlowModel);
        var (_, key) = await server.CreateTenantKeyAsync();
        await using var socket = await StartStreamingRunAsync(server, key);
        var runId = socket.Received[^1].Str("run_id");

        using var cancelled = await server.Http.PostAsync($"/api/v1/runs/{runId}/cancel", null);
        var end = (await socket.ReceiveRunEndAsync())[^1];
        using var again = await server.Http.PostAsync($"/api/v1/runs/{runId}/cancel", null);

        Assert.Equal(HttpStatusCode.NoContent, cancelled.StatusCode);
        Assert.Equal("cancelled", end.Str("code"));
        Assert.Contains("administrator", end.Str("message"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task ATenantCancelsItsOwnRunOverRest()
    {
        await using var server = await ConclaveTestServer.StartAsync(SlowModel);
        var (_, key) = await server.CreateTenantKeyAsync();
        using var tenant = server.CreateClient(key);
        var session = await server.CreateSessionAsync(tenant);
        await using var socket = await server.ConnectAsync(session, key);
        await socket.SendAsync(new { type = "message", content = "ask me: now?" });
        var ask = await socket.ReceiveTypeAsync("ask_human");
        var listed = Assert.Single((await tenant.GetFromJsonAsync<List<JsonElement>>("/api/v1/runs"))!);

        using var cancelled = await tenant.PostAsync($"/api/v1/runs/{ask.Str("run_id")}/cancel", null);
        var end = (await socket.ReceiveRunEndAsync())[^1];

        Assert.Equal(1, listed.GetProperty("pending_requests").GetInt32());
        Assert.Equal(HttpStatusCode.NoContent, cancelled.StatusCode);
        Assert.Equal("The run was cancelled.", end.Str("message"));
    }

    /// <summary>A socket on a new session of the tenant, whose long run has streamed its first token (the last frame received).</summary>
    private static async Task<TestSocket> StartStreamingRunAsync(ConclaveTestServer server, string key)
    {
        var socket = await server.ConnectAsync(await server.CreateSessionAsync(server.CreateClient(key)), key);
        await socket.SendAsync(new { type = "message", content = "stream 1000 words" });
        await socket.ReceiveTypeAsync("token");
        return socket;
    }
}
