using System.Text;
using Conclave.Agents.Events;
using Microsoft.EntityFrameworkCore;

namespace Conclave.Server.Storage;

/// <summary>The event log in the database: one insert statement batch per call.</summary>
internal sealed class EfEventStore(IDbContextFactory<ConclaveDbContext> contexts) : IEventStore
{
    public async Task AppendAsync(IReadOnlyList<SessionEvent> events, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        foreach (var e in events)
        {
            db.Events.Add(new EventEntity
            {
                SessionId = e.SessionId,
                EventId = e.EventId,
                RunId = e.RunId,
                Type = e.Type,
                Payload = Encoding.UTF8.GetString(e.Utf8Json.Span),
                CreatedAt = e.CreatedAt,
            });
        }

        await db.SaveChangesAsync(cancellationToken);
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
