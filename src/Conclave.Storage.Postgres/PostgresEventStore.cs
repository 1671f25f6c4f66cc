using System.Buffers;
using System.Text;
using Conclave.Agents.Events;
using Conclave.Storage.EntityFramework;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;

namespace Conclave.Storage.Postgres;

/// <summary>
/// The event log on PostgreSQL: a batch is one binary <c>COPY</c> into <c>events</c> (one statement, so all of the
/// batch or none of it), the fastest way PostgreSQL takes rows.
/// </summary>
internal sealed class PostgresEventStore(IDbContextFactory<ConclaveDbContext> contexts, NpgsqlDataSource database, TimeProvider time) : EfEventStore(contexts)
{
    private const string Copy =
        """COPY events ("SessionId", "EventId", "LastEventId", "RunId", "Type", "Payload", "CreatedAt") FROM STDIN (FORMAT BINARY)""";

    protected override async Task WriteRowsAsync(IReadOnlyList<SessionEvent> events, List<Range> rows, CancellationToken cancellationToken)
    {
        var storedAt = time.GetUtcNow().UtcDateTime;
        var scratch = new ArrayBufferWriter<byte>();
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var copy = await connection.BeginBinaryImportAsync(Copy, cancellationToken);
        foreach (var row in rows)
        {
            var (offset, count) = row.GetOffsetAndLength(events.Count);
            var e = events[offset];
            await copy.StartRowAsync(cancellationToken);
            await copy.WriteAsync(e.SessionId, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(e.EventId, NpgsqlDbType.Bigint, cancellationToken);
            await copy.WriteAsync(e.EventId + count - 1, NpgsqlDbType.Bigint, cancellationToken);
            if (e.RunId is null)
            {
                await copy.WriteNullAsync(cancellationToken);
            }
            else
            {
                await copy.WriteAsync(e.RunId, NpgsqlDbType.Text, cancellationToken);
            }

            await copy.WriteAsync(e.Type, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(Encoding.UTF8.GetString(Payload(events, row, scratch).Span), NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(storedAt, NpgsqlDbType.TimestampTz, cancellationToken);
        }

        await copy.CompleteAsync(cancellationToken);
    }
}
