using Conclave.Agents.Events;
using Conclave.Agents.Runs;
using Conclave.Agents.Skills;
using Conclave.Agents.Teams;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Storage.Sqlite;

/// <summary>
/// Conclave's storage on one SQLite file: the stores the runtime needs (events, runs and their waits, skills,
/// experts), the host's (sessions, API keys, a tenant's skills and experts), and the schema's migrations.
/// </summary>
public static class SqliteStorage
{
    /// <summary>The database file's name in the data folder.</summary>
    public const string FileName = "conclave.db";

    /// <summary>
    /// Registers storage on <c>conclave.db</c> in the folder <paramref name="dataPath"/> gives, with SQLite waiting
    /// <paramref name="busyTimeoutMs"/> gives for another process's write.
    /// </summary>
    public static IServiceCollection AddConclaveSqliteStorage(
        this IServiceCollection services, Func<IServiceProvider, string> dataPath, Func<IServiceProvider, int> busyTimeoutMs)
    {
        services.AddPooledDbContextFactory<ConclaveDbContext>((sp, options) =>
        {
            var folder = dataPath(sp);
            Directory.CreateDirectory(folder);
            options.UseSqlite($"Data Source={Path.Combine(folder, FileName)}").AddInterceptors(new SqlitePragmas(busyTimeoutMs(sp)));
        });
        services.AddSingleton<SqliteWriteGate>();
        services.AddSingleton<IEventStore, EfEventStore>();
        services.AddSingleton<IRunStore, EfRunStore>();
        services.AddSingleton<ISkillCatalog, EfSkillCatalog>();
        services.AddSingleton<IExpertCatalog, EfExpertCatalog>();
        services.AddSingleton<ISessionStore, EfSessionStore>();
        services.AddSingleton<IApiKeyStore, EfApiKeyStore>();
        services.AddSingleton<IStorageProbe, SqliteProbe>();
        services.AddSingleton<ITenantItemStore<Skill>, EfSkillStore>();
        services.AddSingleton<ITenantItemStore<Expert>, EfExpertStore>();
        return services;
    }

    /// <summary>Brings the schema up to date and switches the file to WAL; call once at start, before anything else uses it.</summary>
    public static async Task MigrateAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        await using var db = await services.GetRequiredService<IDbContextFactory<ConclaveDbContext>>().CreateDbContextAsync(cancellationToken);
        await db.Database.MigrateAsync(cancellationToken);
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode = WAL;", cancellationToken);
    }
}
