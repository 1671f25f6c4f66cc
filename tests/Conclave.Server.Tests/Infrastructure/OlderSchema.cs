using Conclave.Storage.EntityFramework;
using Conclave.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Conclave.Server.Tests.Infrastructure;

/// <summary>A data folder whose database an older version left: migrated up to one migration, with rows of that schema.</summary>
internal static class OlderSchema
{
    /// <summary>The context options of the database in <paramref name="dataDir"/>.</summary>
    public static DbContextOptions<ConclaveDbContext> OptionsFor(string dataDir) =>
        new DbContextOptionsBuilder<ConclaveDbContext>().UseSqlite($"Data Source={Path.Combine(dataDir, SqliteStorage.FileName)}", SqliteStorage.UseMigrations).Options;

    /// <summary>
    /// Migrates the database in <paramref name="dataDir"/> up to <paramref name="migrationId"/>, runs <paramref name="sql"/>
    /// on it as SQLite reads it, and lets go of its connections.
    /// </summary>
    public static async Task CreateAsync(string dataDir, string migrationId, string sql)
    {
        await using (var db = new ConclaveDbContext(OptionsFor(dataDir)))
        {
            await db.GetService<IMigrator>().MigrateAsync(migrationId);
            await using var connection = new SqliteConnection(db.Database.GetConnectionString());
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync();
        }

        SqliteConnection.ClearAllPools();
    }
}
