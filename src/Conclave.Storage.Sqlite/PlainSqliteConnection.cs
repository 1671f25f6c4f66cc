using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Sqlite.Storage.Internal;
using Microsoft.EntityFrameworkCore.Storage;

namespace Conclave.Storage.Sqlite;

#pragma warning disable EF1001 // EF Core's SQLite connection is internal API: subclassed for the one reason below.

/// <summary>
/// EF Core's SQLite connection without the SQL functions EF Core gives every connection it makes (<c>regexp</c>, and
/// <c>ef_add</c> and the like for <see cref="decimal"/> arithmetic): Conclave's model has no decimal and its queries no
/// regular expression. Microsoft.Data.Sqlite hands a connection's functions to SQLite again at every open, and a context
/// opens its connection for each query: with the queries of every run start and every stored batch of events, that was
/// about a tenth of all the server allocated while a thousand runs streamed.
/// </summary>
internal sealed class PlainSqliteConnection(
    RelationalConnectionDependencies dependencies,
    IRawSqlCommandBuilder rawSqlCommandBuilder,
    IDiagnosticsLogger<DbLoggerCategory.Infrastructure> logger)
    : SqliteRelationalConnection(dependencies, rawSqlCommandBuilder, logger)
{
    // As EF Core's own makes it, less the functions: with the command timeout the options give, if any (Conclave loads no
    // SpatiaLite, the one other thing EF Core's does).
    protected override DbConnection CreateDbConnection()
    {
        var connection = new SqliteConnection(GetValidatedConnectionString());
        if (RelationalOptionsExtension.Extract(Dependencies.ContextOptions).CommandTimeout is { } timeout)
        {
            connection.DefaultTimeout = timeout;
        }

        return connection;
    }
}

/// <summary>Puts <see cref="PlainSqliteConnection"/> in the place of EF Core's own.</summary>
internal static class PlainSqliteConnections
{
    public static DbContextOptionsBuilder UsePlainSqliteConnections(this DbContextOptionsBuilder options) =>
        options.ReplaceService<ISqliteRelationalConnection, PlainSqliteConnection>();
}
