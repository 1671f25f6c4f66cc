using System.Data.Common;
using System.Text;
using Conclave.Agents.Events;
using Microsoft.EntityFrameworkCore;

namespace Conclave.Server.Storage;

/// <summary>
/// The event log in the database. Appends are the hot path (one row per token): a batch is one transaction of
/// prepared multi-row INSERTs, without EF Core's change tracking; reads go through EF Core.
/// </summary>
internal sealed class EfEventStore(IDbContextFactory<ConclaveDbContext> contexts) : IEventStore
{
    // Rows per INSERT statement: fewer statements to step through (SQLite allows 32766 parameters, 6 a row).
    private const int RowsPerStatement = 64;
    private const int ColumnsPerRow = 6;

    public async Task AppendAsync(IReadOnlyList<SessionEvent> events, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        var connection = db.Database.GetDbConnection();
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var written = 0;
        foreach (var rows in new[] { RowsPerStatement, 1 })
        {
            if (events.Count - written < rows)
            {
                continue;
            }

            // SQLite runs in this process: its async calls would only wrap these synchronous ones in tasks.
            using var insert = CreateInsert(connection, transaction, rows);
            insert.Prepare();
            for (; events.Count - written >= rows; written += rows)
            {
                for (var row = 0; row < rows; row++)
                {
                    Bind(insert.Parameters, row * ColumnsPerRow, events[written + row]);
                }

                insert.ExecuteNonQuery();
            }
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private static DbCommand CreateInsert(DbConnection connection, DbTransaction transaction, int rows)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        var sql = new StringBuilder("INSERT INTO events (SessionId, EventId, RunId, Type, Payload, CreatedAt) VALUES ");
        for (var row = 0; row < rows; row++)
        {
            sql.Append(row == 0 ? "(" : ",(");
            for (var column = 0; column < ColumnsPerRow; column++)
            {
                var name = $"$p{(row * ColumnsPerRow) + column}";
                sql.Append(column == 0 ? name : "," + name);
                var parameter = command.CreateParameter();
                parameter.ParameterName = name;
                command.Parameters.Add(parameter);
            }

            sql.Append(')');
        }

        command.CommandText = sql.ToString();
        return command;
    }

    private static void Bind(DbParameterCollection parameters, int first, SessionEvent e)
    {
        parameters[first].Value = e.SessionId;
        parameters[first + 1].Value = e.EventId;
        parameters[first + 2].Value = (object?)e.RunId ?? DBNull.Value;
        parameters[first + 3].Value = e.Type;
        parameters[first + 4].Value = Encoding.UTF8.GetString(e.Utf8Json.Span);
        parameters[first + 5].Value = e.CreatedAt;
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
