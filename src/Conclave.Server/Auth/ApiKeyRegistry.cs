using System.Collections.Concurrent;
using System.Security.Cryptography;
using Conclave.Storage;
using Microsoft.Extensions.Options;

namespace Conclave.Server.Auth;

/// <summary>
/// Resolves presented keys to callers. Keys are compared as SHA-256 hashes in constant time; a resolved key
/// is cached until it is revoked through this registry.
/// </summary>
internal sealed class ApiKeyRegistry
{
    private readonly IApiKeyStore _keys;
    private readonly byte[]? _configuredAdminHash;
    private readonly ConcurrentDictionary<string, Caller> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _revoked = new(StringComparer.Ordinal);

    public ApiKeyRegistry(IApiKeyStore keys, IOptions<AuthOptions> options)
    {
        _keys = keys;
        var adminKey = options.Value.AdminKey;
        _configuredAdminHash = string.IsNullOrEmpty(adminKey) ? null : ApiKeys.Hash(adminKey);
    }

    /// <summary>Raised when a key is revoked, with the key's id.</summary>
    public event Action<string>? Revoked;

    /// <summary>Whether the admin key comes from configuration rather than the database.</summary>
    public bool HasConfiguredAdminKey => _configuredAdminHash is not null;

    public async ValueTask<Caller?> ResolveAsync(string presentedKey, CancellationToken cancellationToken)
    {
        var hash = ApiKeys.Hash(presentedKey);
        if (_configuredAdminHash is not null && CryptographicOperations.FixedTimeEquals(hash, _configuredAdminHash))
        {
            return new Caller("admin", Caller.AdminTenant, IsAdmin: true);
        }

        var cacheKey = Convert.ToHexString(hash);
        if (_cache.TryGetValue(cacheKey, out var cached))
        {
            return cached;
        }

        var row = await _keys.FindActiveByHashAsync(hash, cancellationToken);
        // A configured admin key replaces any generated one.
        if (row is null || !CryptographicOperations.FixedTimeEquals(row.KeyHash, hash) || (row.IsAdmin && HasConfiguredAdminKey))
        {
            return null;
        }

        var caller = new Caller(row.Id, Caller.TenantOfKey(row.Id, row.IsAdmin), row.IsAdmin);
        _cache[cacheKey] = caller;

        // A revoke that ran while the row was being read must still win.
        if (IsRevoked(row.Id))
        {
            _cache.TryRemove(cacheKey, out _);
            return null;
        }

        return caller;
    }

    /// <summary>Whether this process saw the key revoked.</summary>
    public bool IsRevoked(string keyId) => _revoked.ContainsKey(keyId);

    /// <summary>Forgets a revoked key and tells whoever holds its connections.</summary>
    public void OnRevoked(string keyId)
    {
        _revoked[keyId] = 0;
        foreach (var entry in _cache.Where(e => e.Value.KeyId == keyId).ToList())
        {
            _cache.TryRemove(entry);
        }

        Revoked?.Invoke(keyId);
    }
}
