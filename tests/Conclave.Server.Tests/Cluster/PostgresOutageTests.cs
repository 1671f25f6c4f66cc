using System.Net;
using Conclave.Server.Tests.Infrastructure;
using Npgsql;

namespace Conclave.Server.Tests.Cluster;

/// <summary>PostgreSQL unreachable for a while under two instances: clear errors meanwhile, nothing lost, and the run goes on once it is back.</summary>
[Trait("Category", "Cluster")]
public sealed class PostgresOutageTests
{
    [Fact]
    public async Task ARunWhoseDatabaseGoesAwayWaitsAndEndsWhenItIsBackWithNothingLost()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var settings = TwoInstances.SettingsFor(database, new Dictionary<string, string?> { ["Conclave:Llm:Builtin:TokenDelayMs"] = "5" });
        await using var a = await ConclaveTestServer.StartAsync(settings);
        await using var b = await ConclaveTestServer.StartAsync(settings);
        var session = await a.CreateSessionAsync();
        await using var onA = await a.ConnectAsync(session);
        await using var onB = await b.ConnectAsync(session);
        using var anonymous = a.CreateClient(key: null);

        await onA.SendAsync(new { type = "message", content = "stream 600 words" });
        await onB.ReceiveUntilAsync(f => f.Type() == "token" && f.EventId() >= 50);
        await database.CutOffAsync();
        HttpResponseMessage ready, listed;
        try
        {
            ready = await anonymous.GetAsync("/readyz");
            listed = await a.Http.GetAsync("/api/v1/sessions");
        }
        finally
        {
            await database.ReconnectAsync();
        }

        var sent = (await onA.ReceiveRunEndAsync(TimeSpan.FromSeconds(60)))[^1];
        await onB.ReceiveRunEndAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, listed.StatusCode);
        Assert.Equal("application/problem+json", listed.Content.Headers.ContentType?.MediaType);
        Assert.Equal("final_answer", sent.Type());
        var seen = onA.Received.Skip(1).Select(f => f.GetRawText()).ToList();
        Assert.Equal(seen, onB.Received.Skip(1).Select(f => f.GetRawText()));
        Assert.Equal(Enumerable.Range(1, seen.Count).Select(i => (long)i), onA.Received.Skip(1).Select(f => f.EventId()));
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/readyz")).StatusCode);
    }
}
