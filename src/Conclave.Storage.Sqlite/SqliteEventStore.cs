using System.Buffers;
using System.Globalization;
using System.Text;
using Conclave.Agents.Events;
using Conclave.Storage.EntityFramework;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using SQLitePCL;

namespace Conclave.Storage.Sqlite;

/// <summary>
/// The event log on SQLite: a batch is one transaction of prepared multi-row INSERTs straight to SQLite, in the
/// process's turn for writes.
/// </summary>
internal sealed class SqliteEventStore(IDbContextFactory<ConclaveDbContext> contexts, WriteGate writes, TimeProvider time) : EfEventStore(contexts)
{
    // Rows per INSERT statement: fewer statements to step through (SQLite allows 32766 parameters, 7 a row).
    private const int RowsPerStatement = 64;
    private const int ColumnsPerRow = 7;
    private const string SqliteDateTimeFormat = "yyyy-MM-dd HH:mm:ss.FFFFFFF";

    // Many rows at once while they last, then one at a time.
    private static readonly (int Rows, string Sql)[] Inserts = [(RowsPerStatement, InsertSql(RowsPerStatement)), (1, InsertSql(1))];

    // Where a row's events are joined for binding. Batches are written one at a time (under the write gate), so one
    // buffer serves them all: it grows to the largest row once, instead of a new one growing by doubling per batch
    // (its last steps on the large object heap).
    private readonly ArrayBufferWriter<byte> _rowPayload = new();

    protected override async Task WriteRowsAsync(IReadOnlyList<SessionEvent> events, List<Range> rows, CancellationToken cancellationToken)
    {
        using var entered = await writes.EnterAsync(cancellationToken);
        await using var db = await Contexts.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        var connection = (SqliteConnection)db.Database.GetDbConnection();
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // SQLite runs in this process: its async calls would only wrap these synchronous ones in tasks. The statements
        // go to SQLite itself (SQLitePCLRaw, under Microsoft.Data.Sqlite), bound by position from the events' own
        // UTF-8 bytes: no lookup of parameters by name, no string per payload, no boxing.
        var insert = new RowInsert(connection.Handle!, events, time.GetUtcNow().UtcDateTime, _rowPayload);
        var written = 0;
        foreach (var (perStatement, sql) in Inserts)
        {
            if (rows.Count - written >= perStatement)
            {
                written = insert.Run(sql, perStatement, rows, written);
            }
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private static string InsertSql(int rows)
    {
        var sql = new StringBuilder("INSERT INTO events (SessionId, EventId, LastEventId, RunId, Type, Payload, CreatedAt) VALUES ");
        for (var row = 0; row < rows; row++)
        {
            sql.Append(row == 0 ? "(?,?,?,?,?,?,?)" : ",(?,?,?,?,?,?,?)");
        }

        return sql.ToString();
    }

    /// <summary>Binds and steps the INSERTs of one batch.</summary>
    private sealed class RowInsert
    {
        private readonly sqlite3 _database;
        private readonly IReadOnlyList<SessionEvent> _events;
        private readonly byte[] _storedAt;
        private readonly ArrayBufferWriter<byte> _scratch;

        public RowInsert(sqlite3 database, IReadOnlyList<SessionEvent> events, DateTime storedAt, ArrayBufferWriter<byte> scratch)
        {
            _database = database;
            _events = events;
            _scratch = scratch;

            // As EF Core writes a DateTime to SQLite, so that its reads parse it.
            _storedAt = Encoding.UTF8.GetBytes(storedAt.ToString(SqliteDateTimeFormat, CultureInfo.InvariantCulture));
        }

        /// <summary>Inserts rows <paramref name="perStatement"/> at a time from <paramref name="written"/> on while they last; returns how far it got.</summary>
        public int Run(string sql, int perStatement, List<Range> rows, int written)
        {
            Check(raw.sqlite3_prepare_v2(_database, sql, out var statement));
            using (statement)
            {
                for (; rows.Count - written >= perStatement; written += perStatement)
                {
                    for (var row = 0; row < perStatement; row++)
                    {
                        Bind(statement, (row * ColumnsPerRow) + 1, rows[written + row]);
                    }

                    if (raw.sqlite3_step(statement) != raw.SQLITE_DONE)
                    {
                        Check(raw.sqlite3_errcode(_database));
                    }

                    Check(raw.sqlite3_reset(statement));
                }
            }

            return written;
        }

        // SQLite copies what is bound (SQLITE_TRANSIENT), so the scratch buffer may be reused for the next row.
        private void Bind(sqlite3_stmt statement, int first, Range row)
        {
            var (offset, count) = row.GetOffsetAndLength(_events.Count);
            var e = _events[offset];
            Check(raw.sqlite3_bind_text16(statement, first, e.SessionId));
            Check(raw.sqlite3_bind_int64(statement, first + 1, e.EventId));
            Check(raw.sqlite3_bind_int64(statement, first + 2, e.EventId + count - 1));
            Check(e.RunId is null ? raw.sqlite3_bind_null(statement, first + 3) : raw.sqlite3_bind_text16(statement, first + 3, e.RunId));
            Check(raw.sqlite3_bind_text16(statement, first + 4, e.Type));
            Check(raw.sqlite3_bind_text(statement, first + 5, Payload(_events, row, _scratch).Span));
            Check(raw.sqlite3_bind_text(statement, first + 6, _storedAt));
        }

        private void Check(int result) => SqliteException.ThrowExceptionForRC(result, _database);
    }
}
