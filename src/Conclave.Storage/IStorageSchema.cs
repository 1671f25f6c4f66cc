namespace Conclave.Storage;

/// <summary>The database's schema, brought up to date once at start before anything else uses storage.</summary>
public interface IStorageSchema
{
    /// <summary>Applies the migrations the database lacks (and whatever per-database setting the provider needs).</summary>
    Task MigrateAsync(CancellationToken cancellationToken = default);
}
