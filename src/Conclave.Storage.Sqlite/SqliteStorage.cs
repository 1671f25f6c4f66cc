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
            options.UseSqlite($"Data Source={Path.Combine(folder, FileName)}", UseMigrations)
                .AddInterceptors(new SqlitePragmas(busyTimeoutMs(sp)))
                .UsePlainSqliteConnections();
        });
        return services.AddEfStores<SqliteEventStore, WalSchema>(WriteGate.OneAtATime());
    }

    /// <summary>The shared model's migrations for SQLite are this assembly's.</summary>
    internal static void UseMigrations(SqliteDbContextOptionsBuilder sqlite) =>
        sqlite.MigrationsAssembly(typeof(SqliteStorage).Assembly.GetName().Name);

    /// <summary>The schema, and the file in WAL mode.</summary>
    private sealed class WalSchema(IDbContextFactory<ConclaveDbContext> contexts) : EfSchema(contexts)
    {
        protected override Task AfterMigrateAsync(ConclaveDbContext db, CancellationToken cancellationToken) =>
            db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode = WAL;", cancellationToken);
    }
}
