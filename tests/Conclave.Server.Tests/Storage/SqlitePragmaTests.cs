using Conclave.Server.Tests.Infrastructure;
using Conclave.Storage.EntityFramework;
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

    private static async Task<long> PragmaAsync(ConclaveDbContext db, string name)
    {
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = $"PRAGMA {name};";
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
