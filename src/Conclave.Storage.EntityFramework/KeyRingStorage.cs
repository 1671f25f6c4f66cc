using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Storage.EntityFramework;

/// <summary>Keeps the Data Protection key ring in Conclave's database, whichever provider registered it.</summary>
public static class KeyRingStorage
{
    /// <summary>
    /// Stores the key ring in the <c>secret_keys</c> table of the storage registered in the same services (SQLite or
    /// PostgreSQL), so that every instance on one database shares it. The instances must also share an application
    /// name (<see cref="DataProtectionBuilderExtensions.SetApplicationName"/>): it isolates what they protect.
    /// </summary>
    public static IDataProtectionBuilder PersistKeysToConclaveStorage(this IDataProtectionBuilder builder)
    {
        builder.Services.AddOptions<KeyManagementOptions>()
            .Configure<IDbContextFactory<ConclaveDbContext>>((options, contexts) => options.XmlRepository = new EfXmlRepository(contexts));
        return builder;
    }
}
