using Microsoft.EntityFrameworkCore;

namespace Conclave.Storage.Sqlite;

/// <summary>Asks the database file the least there is to ask.</summary>
internal sealed class SqliteProbe(IDbContextFactory<ConclaveDbContext> contexts) : IStorageProbe
{
    public async Task CheckAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.Database.ExecuteSqlRawAsync("SELECT 1", cancellationToken);
    }
}
