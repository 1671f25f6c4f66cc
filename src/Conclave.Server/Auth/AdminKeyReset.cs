using Conclave.Server.Options;
using Conclave.Server.Startup;
using Conclave.Storage;
using Microsoft.Extensions.Options;

namespace Conclave.Server.Auth;

/// <summary>
/// <c>--reset-admin-key</c>: revokes the stored admin keys, stores a new one and prints it, without serving. For an
/// operator who lost the key of an existing data folder (or database).
/// </summary>
internal static class AdminKeyReset
{
    public const string Argument = "--reset-admin-key";

    /// <summary>Returns the process's exit code: 0 once the new key is printed, 1 when it cannot be made.</summary>
    public static async Task<int> ResetAdminKeyAsync(this WebApplication app, TextWriter output, TextWriter error)
    {
        var services = app.Services;
        if (services.GetRequiredService<ApiKeyRegistry>().HasConfiguredAdminKey)
        {
            await error.WriteLineAsync(
                "conclave: Conclave:Auth:AdminKey is set, so the admin key is that setting's value: change the setting instead. No key was changed.");
            return 1;
        }

        // A server serving this folder would go on accepting the old key it has cached; it must be stopped first.
        try
        {
            services.GetRequiredService<DataDirectoryLock>().Acquire();
        }
        catch (InvalidOperationException)
        {
            await error.WriteLineAsync(
                $"conclave: Conclave:DataDir '{services.GetRequiredService<IOptions<ConclaveOptions>>().Value.DataPath}' is in use by a running Conclave server: stop it, then run {Argument} again.");
            return 1;
        }

        await services.GetRequiredService<IStorageSchema>().MigrateAsync();
        var store = services.GetRequiredService<IApiKeyStore>();
        var time = services.GetRequiredService<TimeProvider>();
        foreach (var key in (await store.ListAsync()).Where(k => k.IsAdmin && k.RevokedAt is null))
        {
            await store.RevokeAsync(key.Id, time.GetUtcNow().UtcDateTime);
        }

        await AdminKeyBootstrap.CreateAsync(store, time, output);
        return 0;
    }
}
