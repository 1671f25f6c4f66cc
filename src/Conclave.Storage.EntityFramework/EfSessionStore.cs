using Microsoft.EntityFrameworkCore;

namespace Conclave.Storage.EntityFramework;

/// <summary>Sessions in the database.</summary>
internal sealed class EfSessionStore(IDbContextFactory<ConclaveDbContext> contexts, WriteGate writes) : ISessionStore
{
    public async Task AddAsync(SessionRecord session, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.Sessions.Add(new SessionEntity
        {
            Id = session.Id,
            TenantId = session.TenantId,
            Title = session.Title,
            Metadata = session.Metadata,
            CreatedAt = session.CreatedAt,
            UpdatedAt = session.UpdatedAt,
        });
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task<SessionRecord?> UpdateAsync(string tenantId, string sessionId, SessionChange change, DateTime at, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        int changed;
        using (await writes.EnterAsync(cancellationToken))
        {
            changed = await db.Sessions
                .Where(s => s.Id == sessionId && s.TenantId == tenantId)
                .ExecuteUpdateAsync(
                    set =>
                    {
                        set.SetProperty(s => s.UpdatedAt, at);
                        if (change.SetsTitle)
                        {
                            set.SetProperty(s => s.Title, change.Title);
                        }

                        if (change.SetsMetadata)
                        {
                            set.SetProperty(s => s.Metadata, change.Metadata);
                        }
                    },
                    cancellationToken);
        }

        return changed == 1 ? await FindAsync(tenantId, sessionId, cancellationToken) : null;
    }

    public async Task<SessionRecord?> FindAsync(string tenantId, string sessionId, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var row = await _find(db, sessionId, tenantId, cancellationToken);
        return row is null ? null : ToRecord(row);
    }

    // Compiled once per store (a compiled query keeps the provider it first ran on): every socket's opening asks it twice.
    private readonly Func<ConclaveDbContext, string, string, CancellationToken, Task<SessionEntity?>> _find = EF.CompileAsyncQuery(
        (ConclaveDbContext db, string sessionId, string tenantId, CancellationToken _) =>
            db.Sessions.AsNoTracking().FirstOrDefault(s => s.Id == sessionId && s.TenantId == tenantId));

    public async Task<IReadOnlyList<SessionRecord>> ListAsync(string tenantId, string? before, int limit, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var query = db.Sessions.AsNoTracking().Where(s => s.TenantId == tenantId);
        if (!string.IsNullOrEmpty(before))
        {
            query = query.Where(s => string.Compare(s.Id, before) < 0);
        }

        var rows = await query.OrderByDescending(s => s.Id).Take(limit).ToListAsync(cancellationToken);
        return rows.ConvertAll(ToRecord);
    }

    public async Task<IReadOnlyList<SessionMessage>> ListMessagesAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Messages.AsNoTracking()
            .Where(m => m.SessionId == sessionId)
            .OrderBy(m => m.Id)
            .Select(m => new SessionMessage(m.Role, m.Content, m.RunId, m.CreatedAt, m.Tool))
            .ToListAsync(cancellationToken);
    }

    public async Task RemoveAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        using var entered = await writes.EnterAsync(cancellationToken);
        await db.Sessions.Where(s => s.Id == sessionId).ExecuteDeleteAsync(cancellationToken);
    }

    public async Task RemoveDataAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        using var entered = await writes.EnterAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Events.Where(e => e.SessionId == sessionId).ExecuteDeleteAsync(cancellationToken);
        await db.Messages.Where(m => m.SessionId == sessionId).ExecuteDeleteAsync(cancellationToken);
        await EfRunStore.DeleteWaitsAsync(db, db.Runs.Where(r => r.SessionId == sessionId).Select(r => r.Id), cancellationToken);
        await db.Runs.Where(r => r.SessionId == sessionId).ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private static SessionRecord ToRecord(SessionEntity s) => new(s.Id, s.TenantId, s.Title, s.Metadata, s.CreatedAt, s.UpdatedAt);
}
