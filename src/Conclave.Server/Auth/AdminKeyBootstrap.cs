using Conclave.Storage;

namespace Conclave.Server.Auth;

/// <summary>
/// Makes sure an admin key exists: the configured one, or else one generated on the first start,
/// stored as a hash and printed once to the console.
/// </summary>
internal static class AdminKeyBootstrap
{
    public static async Task EnsureAdminKeyAsync(IApiKeyStore store, ApiKeyRegistry keys, TimeProvider time, TextWriter console)
    {
        if (keys.HasConfiguredAdminKey || await store.HasActiveAdminAsync())
        {
            return;
        }

        await CreateAsync(store, time, console);
    }

    /// <summary>Stores a new admin key's hash and prints the key.</summary>
    public static async Task CreateAsync(IApiKeyStore store, TimeProvider time, TextWriter console)
    {
        var key = ApiKeys.Generate();
        await store.AddAsync(new ApiKeyRecord(
            ApiKeys.NewId(), "admin", ApiKeys.Hash(key), ApiKeys.Display(key), IsAdmin: true, time.GetUtcNow().UtcDateTime, RevokedAt: null));

        // Printed, not logged: it must reach the operator once and never a log store.
        await console.WriteLineAsync($"""

            ==== Conclave admin key (shown only this once; only its hash is stored) ====
            {key}
            Lost it? Stop the server and run it once with {AdminKeyReset.Argument} for a new one.
            ===========================================================================

            """);
        await console.FlushAsync();
    }
}
