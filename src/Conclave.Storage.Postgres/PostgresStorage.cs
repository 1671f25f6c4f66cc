using Conclave.Storage.EntityFramework;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Npgsql.EntityFrameworkCore.PostgreSQL.Infrastructure;

namespace Conclave.Storage.Postgres;

/// <summary>
/// Conclave's storage on PostgreSQL: the same stores and model as on SQLite, its own migrations, and an event log
/// written by binary COPY. Several Conclave processes may share one database.
/// </summary>
public static class PostgresStorage
{
    /// <summary>Registers storage on the PostgreSQL database <paramref name="connectionString"/> names.</summary>
    public static IServiceCollection AddConclavePostgresStorage(this IServiceCollection services, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString).Build());
        services.AddPooledDbContextFactory<ConclaveDbContext>((sp, options) =>
            options.UseNpgsql(sp.GetRequiredService<NpgsqlDataSource>(), UseMigrations));
        return services.AddEfStores<PostgresEventStore, EfSchema>(WriteGate.Unlimited());
    }

    /// <summary>The shared model's migrations for PostgreSQL are this assembly's.</summary>
    internal static void UseMigrations(NpgsqlDbContextOptionsBuilder postgres) =>
        postgres.MigrationsAssembly(typeof(PostgresStorage).Assembly.GetName().Name);
}
