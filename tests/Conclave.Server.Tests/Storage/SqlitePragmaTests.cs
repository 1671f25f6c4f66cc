using Conclave.Server.Tests.Infrastructure;
using Conclave.Storage.EntityFramework;
using Conclave.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Server.Tests.Storage;

public sealed class SqlitePragmaTests
{
    [Fact]
    public async Task EveryOpenOfAPooledConnectionHasTheBusyTimeoutAndNormalSync()
    {
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?> { ["Conclave:Storage:BusyTimeoutMs"] = "4321" });
        var contexts = server.Services.GetRequiredService<IDbContextFactory<ConclaveDbContext>>();

        // The first open sets them on the pool's connection; the later ones find that connection again and keep them.
        for (var open = 0; open < 3; open++)
        {
            await using var db = await contexts.CreateDbContextAsync();
            await db.Database.OpenConnectionAsync();
            Assert.Equal(4321L, await PragmaAsync(db, "busy_timeout"));
            Assert.Equal(1L, await PragmaAsync(db, "synchronous")); // NORMAL
            await db.Database.CloseConnectionAsync();
        }
    }

    [Fact]
    public async Task ConnectionsCarryNoneOfEfCoresSqlFunctions()
    {
        // EF Core adds them to each connection it makes, and SQLite is handed them again at every open; Conclave's
        // queries use none of them, so its connections are made without.
        await using var server = await ConclaveTestServer.StartAsync();
        var contexts = server.Services.GetRequiredService<IDbContextFactory<ConclaveDbContext>>();
        await using var db = await contexts.CreateDbContextAsync();
        await db.Database.OpenConnectionAsync();

        foreach (var call in new[] { "ef_add(1, 2)", "regexp('a', 'a')" })
        {
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = $"SELECT {call};";
            var error = await Assert.ThrowsAsync<SqliteException>(() => command.ExecuteScalarAsync());
            Assert.Contains("no such function", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task APlainConnectionKeepsTheCommandTimeoutTheOptionsGive()
    {
        var options = new DbContextOptionsBuilder<ConclaveDbContext>().UseSqlite("Data Source=:memory:", sqlite => sqlite.CommandTimeout(77));
        options.UsePlainSqliteConnections();
        await using var db = new ConclaveDbContext(options.Options);

        Assert.Equal(77, ((SqliteConnection)db.Database.GetDbConnection()).DefaultTimeout);
    }

    private static async Task<long> PragmaAsync(ConclaveDbContext db, string name)
    {
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = $"PRAGMA {name};";
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
