namespace Conclave.Storage;

/// <summary>An API key as stored: never the key itself, only its SHA-256 hash and a prefix to tell keys apart.</summary>
/// <param name="Id">The key's id.</param>
/// <param name="Name">Its name.</param>
/// <param name="KeyHash">The SHA-256 of the key.</param>
/// <param name="Prefix">The key's first characters.</param>
/// <param name="IsAdmin">Whether it is the admin key.</param>
/// <param name="CreatedAt">When it was made (UTC).</param>
/// <param name="RevokedAt">When it was revoked (UTC), or null while it is active.</param>
public sealed record ApiKeyRecord(string Id, string Name, byte[] KeyHash, string Prefix, bool IsAdmin, DateTime CreatedAt, DateTime? RevokedAt);

/// <summary>Durable storage of API keys.</summary>
public interface IApiKeyStore
{
    /// <summary>Stores a new key.</summary>
    Task AddAsync(ApiKeyRecord key, CancellationToken cancellationToken = default);

    /// <summary>Every key, revoked ones too, oldest first.</summary>
    Task<IReadOnlyList<ApiKeyRecord>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>The active key with that hash, if any (the caller compares the hash again in constant time).</summary>
    Task<ApiKeyRecord?> FindActiveByHashAsync(byte[] keyHash, CancellationToken cancellationToken = default);

    /// <summary>The active key with that id, if any.</summary>
    Task<ApiKeyRecord?> FindActiveAsync(string keyId, CancellationToken cancellationToken = default);

    /// <summary>Revokes an active key; false when there is no active key of that id.</summary>
    Task<bool> RevokeAsync(string keyId, DateTime revokedAt, CancellationToken cancellationToken = default);

    /// <summary>Whether an active admin key is stored.</summary>
    Task<bool> HasActiveAdminAsync(CancellationToken cancellationToken = default);
}
