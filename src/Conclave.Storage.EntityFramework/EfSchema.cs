using Microsoft.EntityFrameworkCore;

namespace Conclave.Storage.EntityFramework;

/// <summary>
/// Brings the database up to the model with its provider's migrations; a provider that needs a per-database setting
/// as well applies it in <see cref="AfterMigrateAsync"/>. Several processes migrating at once take turns (EF Core's
/// migration lock).
/// </summary>
internal class EfSchema(IDbContextFactory<ConclaveDbContext> contexts) : IStorageSchema
{
    public async Task MigrateAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.Database.MigrateAsync(cancellationToken);
        await AfterMigrateAsync(db, cancellationToken);
    }

    /// <summary>What the provider sets on the database once it is migrated; nothing by default.</summary>
    protected virtual Task AfterMigrateAsync(ConclaveDbContext db, CancellationToken cancellationToken) => Task.CompletedTask;
}
