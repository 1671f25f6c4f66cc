using System.Data.Common;
using System.Text;
using Conclave.Agents.Events;
using Microsoft.EntityFrameworkCore;

namespace Conclave.Server.Storage;

/// <summary>
/// The event log in the database. Appends are the hot path (one row per token): a batch is one transaction
/// running one prepared INSERT per event, without EF Core's change tracking; reads go through EF Core.
/// </summary>
internal sealed class EfEventStore(IDbContextFactory<ConclaveDbContext> contexts) : IEventStore
{
    private const string Insert =
        "INSERT INTO events (SessionId, EventId, RunId, Type, Payload, CreatedAt) VALUES ($session, $event, $run, $type, $payload, $created)";

    public async Task AppendAsync(IReadOnlyList<SessionEvent> events, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        var connection = db.Database.GetDbConnection();
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = Insert;
        var session = Parameter(command, "$session");
        var eventId = Parameter(command, "$event");
        var run = Parameter(command, "$run");
        var type = Parameter(command, "$type");
        var payload = Parameter(command, "$payload");
        var created = Parameter(command, "$created");
        await command.PrepareAsync(cancellationToken);
        foreach (var e in events)
        {
            session.Value = e.SessionId;
            eventId.Value = e.EventId;
            run.Value = (object?)e.RunId ?? DBNull.Value;
            type.Value = e.Type;
            payload.Value = Encoding.UTF8.GetString(e.Utf8Json.Span);
            created.Value = e.CreatedAt;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private static DbParameter Parameter(DbCommand command, string name)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        command.Parameters.Add(parameter);
        return parameter;
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
