using Conclave.Agents.Runs;
using Conclave.Server.Tests.Infrastructure;
using Conclave.Storage.EntityFramework;
using Conclave.Storage.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Conclave.Server.Tests.Storage;

/// <summary>Upgrades keep what the previous version stored.</summary>
public sealed class MigrationTests
{
    [Fact]
    public async Task AWaitStoredBeforeTeamWaitsKeepsItsRequestAndCheckpointAfterTheUpgrade()
    {
        using var temp = new TempDataDir();
        await OlderSchema.CreateAsync(
            temp.Path,
            "20261202021439_RunWaits",
            """
            INSERT INTO runs (Id, SessionId, TenantId, Status, StartedAt, InputTokens, OutputTokens, UsageAtEventId)
            VALUES ('run_1', 's1', 'admin', 'running', '2026-12-02 01:00:00', 3, 4, 7);
            INSERT INTO run_waits (RunId, RequestId, Kind, Announcement, AnnouncementEventId, ExpiresAt, Checkpoint)
            VALUES ('run_1', 'req_1', 'Question', '{"type":"ask_human"}', 7, NULL, '{"checkpoint":1}');
            """);
        var options = OlderSchema.OptionsFor(temp.Path);
        await using (var db = new ConclaveDbContext(options))
        {
            await db.Database.MigrateAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var contexts = new Contexts(options);
        var gate = WriteGate.OneAtATime();
        await using var records = new RunRecordWriter(contexts, gate);
        var store = new EfRunStore(contexts, gate, records, TimeProvider.System);
        var open = Assert.Single(await store.ListOpenRunsAsync());

        Assert.Equal("{\"checkpoint\":1}", open.Wait!.Checkpoint);
        Assert.Equal([new WaitRequest("req_1", RequestKind.Question, "{\"type\":\"ask_human\"}", 7, null)], open.Wait.Requests);
    }

    private sealed class Contexts(DbContextOptions<ConclaveDbContext> options) : IDbContextFactory<ConclaveDbContext>
    {
        public ConclaveDbContext CreateDbContext() => new(options);
    }
}
