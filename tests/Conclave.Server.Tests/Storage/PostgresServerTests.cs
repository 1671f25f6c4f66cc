using System.Net;
using Conclave.Agents.Runs;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Conclave.Server.Tests.Storage;

/// <summary>The whole server on PostgreSQL: chats, history and resume from the database alone, readiness.</summary>
[Trait("Category", "Postgres")]
public sealed class PostgresServerTests
{
    [Fact]
    public async Task ARunStoredInPostgresReadsBackOnAnotherServerWithAnEmptyDataFolder()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        string session;
        List<System.Text.Json.JsonElement> seen;
        await using (var first = await ConclaveTestServer.StartAsync(database.Settings))
        {
            session = await first.CreateSessionAsync();
            await using var socket = await first.ConnectAsync(session);
            seen = await socket.ChatAsync("stream 300 words");
            Assert.Equal("final_answer", seen[^1].Type());
        }

        // A second server with a data folder of its own: no journal, nothing but PostgreSQL to read from.
        await using var second = await ConclaveTestServer.StartAsync(database.Settings);
        await using var resumed = await second.ConnectAsync(session, lastEventId: 0);
        var replayed = await resumed.ReceiveUntilAsync(f => f.IsTerminal());
        Assert.Equal(seen.Select(f => f.GetRawText()), replayed.Select(f => f.GetRawText()));

        var history = await second.Http.GetStringAsync($"/api/v1/sessions/{session}/messages");
        Assert.Contains("stream 300 words", history, StringComparison.Ordinal);
        Assert.Contains(seen.Tokens()[..40], history, StringComparison.Ordinal);

        // The session goes on where it was: the next run's ids follow the stored ones.
        var next = await resumed.ChatAsync("hello again");
        Assert.Equal(seen[^1].EventId() + 1, next[0].EventId());
    }

    [Fact]
    public async Task KilledMidStreamEveryEventAClientReceivedIsStoredInPostgresUnchanged()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await DurabilityTests.KilledMidStreamEveryEventAClientReceivedIsStoredAsync(database.Settings);
    }

    [Fact]
    public async Task ReadinessFailsWhenPostgresIsGoneAndRecoversWhenItIsBack()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var server = await ConclaveTestServer.StartAsync(database.Settings);
        using var anonymous = server.CreateClient(key: null);
        var ready = await anonymous.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("\"storage\":\"postgres\"", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The server's role loses the right to connect: what an unreachable database looks like from the server.
        await database.CutOffAsync();
        var down = await anonymous.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.Equal("application/problem+json", down.Content.Headers.ContentType?.MediaType);

        await database.ReconnectAsync();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/readyz")).StatusCode);
    }

    [Fact]
    public async Task OnPostgresMoreRunsReadTheirStartAtOnceUnlessTheSettingSaysHowMany()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using (var byDefault = await ConclaveTestServer.StartAsync(database.Settings))
        {
            Assert.Equal(ConclaveServer.ServerDatabaseRunSetups(Environment.ProcessorCount), RunSetups(byDefault));
            Assert.True(RunSetups(byDefault) >= 16);
        }

        // Never past the setting's own bound, which would stop the start on a machine of many processors.
        Assert.Equal(1_024, ConclaveServer.ServerDatabaseRunSetups(512));

        var settings = database.Settings;
        settings["Conclave:Agent:MaxConcurrentRunSetup"] = "3";
        await using var set = await ConclaveTestServer.StartAsync(settings);
        Assert.Equal(3, RunSetups(set));

        // On SQLite the processors are what a start waits on: one turn each.
        await using var sqlite = await ConclaveTestServer.StartAsync();
        Assert.Equal(Environment.ProcessorCount, RunSetups(sqlite));

        static int RunSetups(ConclaveTestServer server) =>
            server.Services.GetRequiredService<IOptions<AgentOptions>>().Value.MaxConcurrentRunSetup;
    }
}

/// <summary>Storage settings that cannot work stop the start.</summary>
public sealed class StorageSettingsTests
{
    [Fact]
    public async Task PostgresWithoutAConnectionStringStopsTheStartNamingTheSetting()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => ConclaveTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Conclave:Storage:Provider"] = "Postgres",
        }));

        Assert.Contains("Conclave:Storage:ConnectionString", failure.Message, StringComparison.Ordinal);
    }
}
