using Npgsql;

namespace Conclave.Server.Tests.Infrastructure;

/// <summary>
/// A fresh, empty database on the real PostgreSQL server that <c>./test.sh</c> starts, dropped on dispose. The server
/// is named by <c>CONCLAVE_TEST_POSTGRES</c>, a connection string of a role that may create databases.
/// </summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    public const string ServerVariable = "CONCLAVE_TEST_POSTGRES";

    private readonly string _server;

    private PostgresDatabase(string server, string name)
    {
        _server = server;
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    /// <summary>The settings that put a test server's storage on this database.</summary>
    public IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Conclave:Storage:Provider"] = "Postgres",
        ["Conclave:Storage:ConnectionString"] = ConnectionString,
    };

    public static async Task<PostgresDatabase> CreateAsync()
    {
        var server = Environment.GetEnvironmentVariable(ServerVariable);
        if (string.IsNullOrWhiteSpace(server))
        {
            throw new InvalidOperationException(
                $"{ServerVariable} is not set: ./test.sh starts PostgreSQL and sets it (or leave these tests out with --filter Category!=Postgres).");
        }

        var database = new PostgresDatabase(server, $"conclave_test_{Guid.NewGuid():N}");
        await database.ExecuteOnServerAsync($"CREATE DATABASE \"{database.Name}\"");
        return database;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await ExecuteOnServerAsync($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)");
    }

    /// <summary>Makes the database unreachable, as a network partition would: no new connection, the open ones ended.</summary>
    public async Task CutOffAsync()
    {
        await ExecuteOnServerAsync($"ALTER DATABASE \"{Name}\" ALLOW_CONNECTIONS false");
        await EndConnectionsAsync($"datname = '{Name}'");
    }

    /// <summary>Lets connections to the database in again.</summary>
    public Task ReconnectAsync() => ExecuteOnServerAsync($"ALTER DATABASE \"{Name}\" ALLOW_CONNECTIONS true");

    /// <summary>
    /// A login role of its own for one server on this database (a superuser, on the throwaway test server), so that
    /// that server alone can be cut off (<see cref="CutOffRoleAsync"/>); returns the connection string it uses.
    /// </summary>
    public async Task<string> ConnectionStringForNewRoleAsync(string role)
    {
        await ExecuteOnServerAsync($"CREATE ROLE \"{role}\" LOGIN SUPERUSER");
        return new NpgsqlConnectionStringBuilder(ConnectionString) { Username = role }.ConnectionString;
    }

    /// <summary>Cuts off the servers that connect as <paramref name="role"/>: no new connection, the open ones ended.</summary>
    public async Task CutOffRoleAsync(string role)
    {
        await ExecuteOnServerAsync($"ALTER ROLE \"{role}\" NOLOGIN");
        await EndConnectionsAsync($"usename = '{role}'");
    }

    /// <summary>Ends the server's connections that <paramref name="which"/> (a condition on <c>pg_stat_activity</c>) picks, and this process's pools.</summary>
    private async Task EndConnectionsAsync(string which)
    {
        await ExecuteOnServerAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {which} AND pid <> pg_backend_pid()");
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>Lets the role log in again.</summary>
    public Task RestoreRoleAsync(string role) => ExecuteOnServerAsync($"ALTER ROLE \"{role}\" LOGIN");

    /// <summary>Runs a statement on the server's maintenance database (not on this one).</summary>
    public async Task ExecuteOnServerAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_server);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
