using Conclave.Storage.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Conclave.Server.Auth;

/// <summary>
/// Makes sure an admin key exists: the configured one, or else one generated on the first start,
/// stored as a hash and printed once to the console.
/// </summary>
internal static class AdminKeyBootstrap
{
    public static async Task EnsureAdminKeyAsync(ConclaveDbContext db, ApiKeyRegistry keys, TimeProvider time, TextWriter console)
    {
        if (keys.HasConfiguredAdminKey || await db.ApiKeys.AnyAsync(k => k.IsAdmin && k.RevokedAt == null))
        {
            return;
        }

        var key = ApiKeys.Generate();
        db.ApiKeys.Add(new ApiKeyEntity
        {
            Id = ApiKeys.NewId(),
            Name = "admin",
            KeyHash = ApiKeys.Hash(key),
            Prefix = ApiKeys.Display(key),
            IsAdmin = true,
            CreatedAt = time.GetUtcNow().UtcDateTime,
        });
        await db.SaveChangesAsync();

        // Printed, not logged: it must reach the operator once and never a log store.
        await console.WriteLineAsync($"""

            ==== Conclave admin key (shown only this once; only its hash is stored) ====
            {key}
            ===========================================================================

            """);
        await console.FlushAsync();
    }
}
