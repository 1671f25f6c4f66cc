using Conclave.Storage.EntityFramework;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
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
            options.UseSqlite($"Data Source={Path.Combine(folder, FileName)}", UseMigrations).AddInterceptors(new SqlitePragmas(busyTimeoutMs(sp)));
        });
        services.AddSingleton<IStorageSchema, Schema>();
        return services.AddEfStores<SqliteEventStore>(WriteGate.OneAtATime());
    }

    /// <summary>The shared model's migrations for SQLite are this assembly's.</summary>
    internal static void UseMigrations(SqliteDbContextOptionsBuilder sqlite) =>
        sqlite.MigrationsAssembly(typeof(SqliteStorage).Assembly.GetName().Name);

    /// <summary>Brings the schema up to date and switches the file to WAL.</summary>
    private sealed class Schema(IDbContextFactory<ConclaveDbContext> contexts) : IStorageSchema
    {
        public async Task MigrateAsync(CancellationToken cancellationToken = default)
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            await db.Database.MigrateAsync(cancellationToken);
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode = WAL;", cancellationToken);
        }
    }
}
