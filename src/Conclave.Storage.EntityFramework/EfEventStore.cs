using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Conclave.Agents.Events;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using SQLitePCL;

namespace Conclave.Storage.Sqlite;

/// <summary>
/// The event log in the database. Appends are the hot path (a row per token, were each event its own row): so
/// consecutive events of one run and type in a batch share a row, whose payload is the JSON array of them, and a
/// batch is one transaction of prepared multi-row INSERTs straight to SQLite. Reads go through EF Core and split
/// such rows back into events.
/// </summary>
internal sealed class EfEventStore(IDbContextFactory<ConclaveDbContext> contexts, SqliteWriteGate writes, TimeProvider time) : IEventStore
{
    /// <summary>The most events one row holds; reads rely on it to find the row holding an id by the primary key.</summary>
    internal const int MaxEventsPerRow = 1_024;

    // A row grows past this only by its first event.
    private const int MaxBytesPerRow = 256 * 1024;

    // Rows per INSERT statement: fewer statements to step through (SQLite allows 32766 parameters, 7 a row).
    private const int RowsPerStatement = 64;
    private const int ColumnsPerRow = 7;
    private const string SqliteDateTimeFormat = "yyyy-MM-dd HH:mm:ss.FFFFFFF";

    // Many rows at once while they last, then one at a time.
    private static readonly (int Rows, string Sql)[] Inserts = [(RowsPerStatement, InsertSql(RowsPerStatement)), (1, InsertSql(1))];

    public async Task AppendAsync(IReadOnlyList<SessionEvent> batch, CancellationToken cancellationToken = default)
    {
        var events = BySession(batch);
        var rows = RowsOf(events);
        using var entered = await writes.EnterAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        var connection = (SqliteConnection)db.Database.GetDbConnection();
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // SQLite runs in this process: its async calls would only wrap these synchronous ones in tasks. The statements
        // go to SQLite itself (SQLitePCLRaw, under Microsoft.Data.Sqlite), bound by position from the events' own
        // UTF-8 bytes: no lookup of parameters by name, no string per payload, no boxing.
        var insert = new RowInsert(connection.Handle!, events, time.GetUtcNow().UtcDateTime);
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

    public async Task<IReadOnlyList<SessionEvent>> ReadAfterAsync(
        string sessionId, long afterEventId, int limit, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);

        // The row holding the first event wanted starts at most MaxEventsPerRow - 1 ids before it: a key range.
        var from = afterEventId - MaxEventsPerRow;
        var rows = db.Events.AsNoTracking()
            .Where(e => e.SessionId == sessionId && e.EventId > from && e.LastEventId > afterEventId)
            .OrderBy(e => e.EventId)
            .Take(limit)
            .AsAsyncEnumerable();

        // Rows are read one at a time, and no further than the limit takes: a row may hold many events.
        var events = new List<SessionEvent>(Math.Min(limit, 256));
        await foreach (var row in rows.WithCancellation(cancellationToken))
        {
            var payload = Encoding.UTF8.GetBytes(row.Payload);
            if (row.LastEventId == row.EventId)
            {
                events.Add(new SessionEvent(row.SessionId, row.EventId, row.RunId, row.Type, payload));
            }
            else
            {
                SplitRow(row, payload, afterEventId, limit, events);
            }

            if (events.Count >= limit)
            {
                break;
            }
        }

        return events;
    }

    public async Task<long> GetLastEventIdAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Events
            .Where(e => e.SessionId == sessionId)
            .OrderByDescending(e => e.EventId)
            .Select(e => (long?)e.LastEventId)
            .FirstOrDefaultAsync(cancellationToken) ?? 0;
    }

    /// <summary>
    /// The batch with each session's events together, in the order they came (which is their id order): the events of
    /// runs streaming at once arrive interleaved, and only neighbours share a row.
    /// </summary>
    private static IReadOnlyList<SessionEvent> BySession(IReadOnlyList<SessionEvent> batch)
    {
        // Most batches are one run streaming: nothing to regroup, nothing to copy.
        if (batch.All(e => string.Equals(e.SessionId, batch[0].SessionId, StringComparison.Ordinal)))
        {
            return batch;
        }

        var sessions = new Dictionary<string, List<SessionEvent>>(StringComparer.Ordinal);
        foreach (var e in batch)
        {
            if (!sessions.TryGetValue(e.SessionId, out var events))
            {
                sessions[e.SessionId] = events = [];
            }

            events.Add(e);
        }

        return [.. sessions.Values.SelectMany(events => events)];
    }

    /// <summary>Groups a batch into rows: runs of consecutive events of one session, run and type, within the row limits.</summary>
    private static List<Range> RowsOf(IReadOnlyList<SessionEvent> events)
    {
        var rows = new List<Range>();
        var start = 0;
        var bytes = 0;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            if (i > start)
            {
                var first = events[start];
                var previous = events[i - 1];
                var joins = i - start < MaxEventsPerRow
                    && bytes + e.Utf8Json.Length + 1 <= MaxBytesPerRow
                    && e.EventId == previous.EventId + 1
                    && string.Equals(e.SessionId, first.SessionId, StringComparison.Ordinal)
                    && string.Equals(e.RunId, first.RunId, StringComparison.Ordinal)
                    && string.Equals(e.Type, first.Type, StringComparison.Ordinal);
                if (!joins)
                {
                    rows.Add(new Range(start, i));
                    start = i;
                    bytes = 0;
                }
            }

            bytes += e.Utf8Json.Length + 1;
        }

        if (events.Count > start)
        {
            rows.Add(new Range(start, events.Count));
        }

        return rows;
    }

    /// <summary>Adds the events of a row of several, with an id above <paramref name="afterEventId"/>, up to <paramref name="limit"/>.</summary>
    private static void SplitRow(EventEntity row, byte[] payload, long afterEventId, int limit, List<SessionEvent> events)
    {
        // As deep as the writer may have written an event (its default limit), and one more for the array.
        var reader = new Utf8JsonReader(payload, new JsonReaderOptions { MaxDepth = 1_001 });
        reader.Read(); // [
        var eventId = row.EventId;
        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject && events.Count < limit)
        {
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            if (eventId > afterEventId)
            {
                var end = (int)reader.BytesConsumed;
                events.Add(new SessionEvent(row.SessionId, eventId, row.RunId, row.Type, payload.AsMemory(start, end - start)));
            }

            eventId++;
        }
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

        public RowInsert(sqlite3 database, IReadOnlyList<SessionEvent> events, DateTime storedAt)
        {
            _database = database;
            _events = events;

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

        private void Bind(sqlite3_stmt statement, int first, Range row)
        {
            var (offset, count) = row.GetOffsetAndLength(_events.Count);
            var e = _events[offset];
            Check(raw.sqlite3_bind_text16(statement, first, e.SessionId));
            Check(raw.sqlite3_bind_int64(statement, first + 1, e.EventId));
            Check(raw.sqlite3_bind_int64(statement, first + 2, e.EventId + count - 1));
            Check(e.RunId is null ? raw.sqlite3_bind_null(statement, first + 3) : raw.sqlite3_bind_text16(statement, first + 3, e.RunId));
            Check(raw.sqlite3_bind_text16(statement, first + 4, e.Type));
            Check(count == 1 ? raw.sqlite3_bind_text(statement, first + 5, e.Utf8Json.Span) : BindJoined(statement, first + 5, offset, count));
            Check(raw.sqlite3_bind_text(statement, first + 6, _storedAt));
        }

        /// <summary>Binds the events of a row as a JSON array, joined in a pooled buffer: SQLite keeps a copy.</summary>
        private int BindJoined(sqlite3_stmt statement, int index, int offset, int count)
        {
            var length = count + 1;
            for (var i = offset; i < offset + count; i++)
            {
                length += _events[i].Utf8Json.Length;
            }

            var buffer = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                var written = 0;
                for (var i = offset; i < offset + count; i++)
                {
                    buffer[written++] = i == offset ? (byte)'[' : (byte)',';
                    _events[i].Utf8Json.Span.CopyTo(buffer.AsSpan(written));
                    written += _events[i].Utf8Json.Length;
                }

                buffer[written++] = (byte)']';
                return raw.sqlite3_bind_text(statement, index, buffer.AsSpan(0, written));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        private void Check(int result) => SqliteException.ThrowExceptionForRC(result, _database);
    }
}
