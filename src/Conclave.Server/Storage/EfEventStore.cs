using System.Globalization;
using System.Text;
using Conclave.Agents.Events;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using SQLitePCL;

namespace Conclave.Server.Storage;

/// <summary>
/// The event log in the database. Appends are the hot path (one row per token): a batch is one transaction of
/// prepared multi-row INSERTs straight to SQLite, without EF Core's change tracking; reads go through EF Core.
/// </summary>
internal sealed class EfEventStore(IDbContextFactory<ConclaveDbContext> contexts) : IEventStore
{
    // Rows per INSERT statement: fewer statements to step through (SQLite allows 32766 parameters, 6 a row).
    private const int RowsPerStatement = 64;
    private const int ColumnsPerRow = 6;
    private const string SqliteDateTimeFormat = "yyyy-MM-dd HH:mm:ss.FFFFFFF";

    // Many rows at once while they last, then one at a time.
    private static readonly (int Rows, string Sql)[] Inserts = [(RowsPerStatement, InsertSql(RowsPerStatement)), (1, InsertSql(1))];

    public async Task AppendAsync(IReadOnlyList<SessionEvent> events, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        var connection = (SqliteConnection)db.Database.GetDbConnection();
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // SQLite runs in this process: its async calls would only wrap these synchronous ones in tasks. The statements
        // go to SQLite itself (SQLitePCLRaw, under Microsoft.Data.Sqlite), bound by position from the event's own UTF-8
        // bytes: no lookup of parameters by name, no string per payload, no boxing.
        var written = 0;
        foreach (var (rows, sql) in Inserts)
        {
            if (events.Count - written >= rows)
            {
                written = Insert(connection.Handle!, sql, rows, events, written);
            }
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private static int Insert(sqlite3 database, string sql, int rows, IReadOnlyList<SessionEvent> events, int written)
    {
        Check(raw.sqlite3_prepare_v2(database, sql, out var statement), database);
        using (statement)
        {
            Span<byte> createdAt = stackalloc byte[32];
            for (; events.Count - written >= rows; written += rows)
            {
                for (var row = 0; row < rows; row++)
                {
                    var e = events[written + row];
                    var first = (row * ColumnsPerRow) + 1;
                    Check(raw.sqlite3_bind_text16(statement, first, e.SessionId), database);
                    Check(raw.sqlite3_bind_int64(statement, first + 1, e.EventId), database);
                    Check(e.RunId is null ? raw.sqlite3_bind_null(statement, first + 2) : raw.sqlite3_bind_text16(statement, first + 2, e.RunId), database);
                    Check(raw.sqlite3_bind_text16(statement, first + 3, e.Type), database);
                    Check(raw.sqlite3_bind_text(statement, first + 4, e.Utf8Json.Span), database);

                    // As EF Core writes a DateTime to SQLite, so that its reads parse it.
                    e.CreatedAt.TryFormat(createdAt, out var length, SqliteDateTimeFormat, CultureInfo.InvariantCulture);
                    Check(raw.sqlite3_bind_text(statement, first + 5, createdAt[..length]), database);
                }

                if (raw.sqlite3_step(statement) != raw.SQLITE_DONE)
                {
                    Check(raw.sqlite3_errcode(database), database);
                }

                Check(raw.sqlite3_reset(statement), database);
            }
        }

        return written;
    }

    private static void Check(int result, sqlite3 database) => SqliteException.ThrowExceptionForRC(result, database);

    private static string InsertSql(int rows)
    {
        var sql = new StringBuilder("INSERT INTO events (SessionId, EventId, RunId, Type, Payload, CreatedAt) VALUES ");
        for (var row = 0; row < rows; row++)
        {
            sql.Append(row == 0 ? "(?,?,?,?,?,?)" : ",(?,?,?,?,?,?)");
        }

        return sql.ToString();
    }

    public async Task<IReadOnlyList<SessionEvent>> ReadAfterAsync(
        string sessionId, long afterEventId, int limit, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var rows = await db.Events.AsNoTracking()
            .Where(e => e.SessionId == sessionId && e.EventId > afterEventId)
            .OrderBy(e => e.EventId)
            .Take(limit)
            .ToListAsync(cancellationToken);
        return rows.ConvertAll(r => new SessionEvent(r.SessionId, r.EventId, r.RunId, r.Type, Encoding.UTF8.GetBytes(r.Payload), r.CreatedAt));
    }

    public async Task<long> GetLastEventIdAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Events.Where(e => e.SessionId == sessionId).MaxAsync(e => (long?)e.EventId, cancellationToken) ?? 0;
    }
}
