using System.Net;
using System.Net.WebSockets;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Server.Tests.Cluster;

/// <summary>A key revoked, or a session deleted, through one instance takes effect on the other too.</summary>
[Trait("Category", "Cluster")]
public sealed class NoticeTests
{
    [Fact]
    public async Task AKeyRevokedOnAClosesItsSocketOnBStopsItsRunThereAndIsRefusedByB()
    {
        await using var cluster = await TwoInstances.StartAsync(new Dictionary<string, string?> { ["Conclave:Llm:Builtin:TokenDelayMs"] = "20" });
        var (id, key) = await cluster.A.CreateTenantKeyAsync();
        using var tenantOnB = cluster.B.CreateClient(key);
        var session = await cluster.B.CreateSessionAsync(tenantOnB);
        await using var onB = await cluster.B.ConnectAsync(session, key);
        await onB.SendAsync(new { type = "message", content = "stream 100000 words" });
        await onB.ReceiveTypeAsync("token");

        // B has the key's identity cached by now; A revokes it.
        using var revoked = await cluster.A.Http.DeleteAsync($"/api/v1/api-keys/{id}");
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);

        var closed = await Assert.ThrowsAsync<WebSocketClosedException>(async () => await onB.ReceiveUntilAsync(_ => false, TimeSpan.FromSeconds(10)));
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, closed.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await tenantOnB.GetAsync("/api/v1/sessions")).StatusCode);
        Assert.Equal(401, await cluster.B.UpgradeStatusAsync(session, key));

        // Its run on B had ended (cancelled) before the revocation answered, and B starts none for its tenant.
        Assert.Empty(cluster.B.Services.GetRequiredService<Conclave.Agents.Runs.RunCoordinator>().ListActive());
        Assert.Null(await cluster.B.Services.GetRequiredService<Conclave.Agents.Runs.IRunStore>().FindOpenRunAsync(session));
    }

    [Fact]
    public async Task ASessionDeletedOnAStopsItsRunAndClosesItsSocketOnB()
    {
        await using var cluster = await TwoInstances.StartAsync(new Dictionary<string, string?> { ["Conclave:Llm:Builtin:TokenDelayMs"] = "20" });
        var session = await cluster.B.CreateSessionAsync();
        await using var onB = await cluster.B.ConnectAsync(session);
        await onB.SendAsync(new { type = "message", content = "stream 100000 words" });
        await onB.ReceiveTypeAsync("token");

        using var deleted = await cluster.A.Http.DeleteAsync($"/api/v1/sessions/{session}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

        var closed = await Assert.ThrowsAsync<WebSocketClosedException>(async () => await onB.ReceiveUntilAsync(_ => false, TimeSpan.FromSeconds(10)));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, closed.Status);
        Assert.Equal(HttpStatusCode.NotFound, (await cluster.B.Http.GetAsync($"/api/v1/sessions/{session}/events")).StatusCode);
        Assert.Empty(cluster.B.Services.GetRequiredService<Conclave.Agents.Runs.RunCoordinator>().ListActive());
    }
}
