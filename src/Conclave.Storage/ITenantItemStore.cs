namespace Conclave.Storage;

/// <summary>An item as stored, with when it was made and last changed (UTC).</summary>
/// <typeparam name="T">The item: a skill or an expert.</typeparam>
/// <param name="Item">The item.</param>
/// <param name="CreatedAt">When it was made.</param>
/// <param name="UpdatedAt">When it last changed.</param>
public sealed record Stored<T>(T Item, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>
/// Durable storage of a tenant's named items (skills, experts): each tenant has its own names, and no other tenant
/// finds its items.
/// </summary>
/// <typeparam name="T">The item.</typeparam>
public interface ITenantItemStore<T>
{
    /// <summary>The tenant's items, by name.</summary>
    Task<IReadOnlyList<Stored<T>>> ListAsync(string tenantId, CancellationToken cancellationToken = default);

    /// <summary>The tenant's item of that name, if any.</summary>
    Task<Stored<T>?> FindAsync(string tenantId, string name, CancellationToken cancellationToken = default);

    /// <summary>Stores a new item; null when the tenant has one of that name already.</summary>
    Task<Stored<T>?> AddAsync(string tenantId, T item, DateTime at, CancellationToken cancellationToken = default);

    /// <summary>Stores the item in place of the tenant's one of that name, or as a new one.</summary>
    Task<Stored<T>> PutAsync(string tenantId, T item, DateTime at, CancellationToken cancellationToken = default);

    /// <summary>Deletes the tenant's item of that name; false when there is none.</summary>
    Task<bool> DeleteAsync(string tenantId, string name, CancellationToken cancellationToken = default);
}
