using Microsoft.EntityFrameworkCore;

namespace Conclave.Storage.EntityFramework;

/// <summary>API keys in the database (their hashes).</summary>
internal sealed class EfApiKeyStore(IDbContextFactory<ConclaveDbContext> contexts) : IApiKeyStore
{
    public async Task AddAsync(ApiKeyRecord key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.ApiKeys.Add(new ApiKeyEntity
        {
            Id = key.Id,
            Name = key.Name,
            KeyHash = key.KeyHash,
            Prefix = key.Prefix,
            IsAdmin = key.IsAdmin,
            CreatedAt = key.CreatedAt,
            RevokedAt = key.RevokedAt,
        });
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<ApiKeyRecord>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var rows = await db.ApiKeys.AsNoTracking().OrderBy(k => k.CreatedAt).ToListAsync(cancellationToken);
        return rows.ConvertAll(ToRecord);
    }

    public async Task<ApiKeyRecord?> FindActiveByHashAsync(byte[] keyHash, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var row = await db.ApiKeys.AsNoTracking().FirstOrDefaultAsync(k => k.KeyHash == keyHash && k.RevokedAt == null, cancellationToken);
        return row is null ? null : ToRecord(row);
    }

    public async Task<ApiKeyRecord?> FindActiveAsync(string keyId, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var row = await db.ApiKeys.AsNoTracking().FirstOrDefaultAsync(k => k.Id == keyId && k.RevokedAt == null, cancellationToken);
        return row is null ? null : ToRecord(row);
    }

    public async Task<bool> RevokeAsync(string keyId, DateTime revokedAt, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var row = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == keyId && k.RevokedAt == null, cancellationToken);
        if (row is null)
        {
            return false;
        }

        row.RevokedAt = revokedAt;
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    public async Task<bool> HasActiveAdminAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.ApiKeys.AnyAsync(k => k.IsAdmin && k.RevokedAt == null, cancellationToken);
    }

    private static ApiKeyRecord ToRecord(ApiKeyEntity k) => new(k.Id, k.Name, k.KeyHash, k.Prefix, k.IsAdmin, k.CreatedAt, k.RevokedAt);
}
