using Microsoft.EntityFrameworkCore;

namespace Conclave.Storage.EntityFramework;

/// <summary>Asks the database the least there is to ask.</summary>
internal sealed class EfStorageProbe(IDbContextFactory<ConclaveDbContext> contexts) : IStorageProbe
{
    public async Task CheckAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.Database.ExecuteSqlRawAsync("SELECT 1", cancellationToken);
    }
}
