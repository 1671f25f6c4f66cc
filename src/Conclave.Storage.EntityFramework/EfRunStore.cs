using System.Data.Common;
using Conclave.Agents.Events;
using Conclave.Agents.Runs;
using Microsoft.EntityFrameworkCore;

namespace Conclave.Storage.EntityFramework;

/// <summary>Runs and session history in the database.</summary>
/// <remarks>A run's start, the messages it adds and its end go through <see cref="RunRecordWriter"/>, committed with those of other runs.</remarks>
internal sealed class EfRunStore(IDbContextFactory<ConclaveDbContext> contexts, WriteGate writes, RunRecordWriter records, TimeProvider time) : IRunStore
{
    // A start refused for a run that ended before the refusal was checked is written again; one refused for another
    // reason fails on its last attempt with what refused it.
    private const int BeginAttempts = 2;

    public async Task<IReadOnlyList<HistoryMessage>> LoadHistoryAsync(string sessionId, int limit, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var history = new List<HistoryMessage>();
        await foreach (var message in _newestHistory(db, sessionId, limit).WithCancellation(cancellationToken))
        {
            history.Add(message);
        }

        history.Reverse();
        return history;
    }

    // Compiled once per store (a compiled query keeps the provider it first ran on): every run's start asks it.
    private readonly Func<ConclaveDbContext, string, int, IAsyncEnumerable<HistoryMessage>> _newestHistory = EF.CompileAsyncQuery(
        (ConclaveDbContext db, string sessionId, int limit) => db.Messages.AsNoTracking()
            .Where(m => m.SessionId == sessionId && (m.Role == HistoryMessage.User || m.Role == HistoryMessage.Assistant))
            .OrderByDescending(m => m.Id)
            .Take(limit)
            .Select(m => new HistoryMessage(m.Role, m.Content, m.Tool)));

    public async Task BeginRunAsync(RunRecord run, string userMessage, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await records.WriteAsync(NewBegin(run, userMessage), cancellationToken);
                return;
            }
            catch (DbException)
            {
                // The index of one running run per session refused it: the session's other run (of this process or
                // another) is still running, or it ended between the refusal and this check, so the run may start now.
                if (await HasRunningRunAsync(run.SessionId, cancellationToken))
                {
                    throw new RunInProgressException(run.SessionId);
                }

                if (attempt == BeginAttempts)
                {
                    throw;
                }
            }
        }
    }

    private RunRecordWrite.Begin NewBegin(RunRecord run, string userMessage) => new(
        new RunEntity
        {
            Id = run.RunId,
            SessionId = run.SessionId,
            TenantId = run.TenantId,
            MessageId = run.MessageId,
            Status = ToText(RunStatus.Running),
            StartedAt = run.StartedAt,
            OwnerId = run.OwnerId,
        },
        NewMessage(run.SessionId, run.RunId, new HistoryMessage(HistoryMessage.User, userMessage)));

    private async Task<bool> HasRunningRunAsync(string sessionId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var running = ToText(RunStatus.Running);
        return await db.Runs.AnyAsync(r => r.SessionId == sessionId && r.Status == running, cancellationToken);
    }

    public Task AppendMessageAsync(string sessionId, string runId, HistoryMessage message, CancellationToken cancellationToken = default) =>
        records.WriteAsync(new RunRecordWrite.Append(NewMessage(sessionId, runId, message)), cancellationToken);

    public async Task RecordUsageAsync(string runId, Usage usage, long atEventId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(usage);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var (input, output) = (usage.InputTokens, usage.OutputTokens);
        using var entered = await writes.EnterAsync(cancellationToken);

        // Only ever upwards: a late write of older figures leaves newer ones in place.
        await db.Runs.Where(r => r.Id == runId).ExecuteUpdateAsync(
            set => set
                .SetProperty(r => r.InputTokens, r => r.InputTokens > input ? r.InputTokens : input)
                .SetProperty(r => r.OutputTokens, r => r.OutputTokens > output ? r.OutputTokens : output)
                .SetProperty(r => r.UsageAtEventId, r => r.UsageAtEventId > atEventId ? r.UsageAtEventId : atEventId),
            cancellationToken);
    }

    public Task EndRunAsync(string runId, RunStatus status, CancellationToken cancellationToken = default) =>
        records.WriteAsync(new RunRecordWrite.End(runId, ToText(status), time.GetUtcNow().UtcDateTime), cancellationToken);

    public async Task<IReadOnlyList<OpenRun>> ListOpenRunsAsync(string? tenantId = null, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await OpenRunsAsync(db, tenantId is null ? db.Runs : db.Runs.Where(r => r.TenantId == tenantId), cancellationToken);
    }

    public async Task<OpenRun?> FindOpenRunAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return (await OpenRunsAsync(db, db.Runs.Where(r => r.SessionId == sessionId), cancellationToken)).FirstOrDefault();
    }

    public async Task HeartbeatAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        int updated;
        using (await writes.EnterAsync(cancellationToken))
        {
            updated = await db.Instances.Where(i => i.Id == instanceId).ExecuteUpdateAsync(set => set.SetProperty(i => i.HeartbeatAt, now), cancellationToken);
        }

        // Only this instance writes its row, so the first heartbeat is the one that adds it.
        if (updated == 0)
        {
            db.Instances.Add(new InstanceEntity { Id = instanceId, HeartbeatAt = now });
            await db.SaveChangesAsync(cancellationToken);
        }
    }

    public async Task<IReadOnlyList<OpenRun>> ClaimOrphanedRunsAsync(string instanceId, DateTime ownersAliveSince, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var running = ToText(RunStatus.Running);
        var alive = db.Instances.Where(i => i.HeartbeatAt >= ownersAliveSince).Select(i => i.Id);
        var orphaned = await db.Runs.AsNoTracking()
            .Where(r => r.Status == running && r.OwnerId != instanceId && (r.OwnerId == null || !alive.Contains(r.OwnerId)))
            .Select(r => new { r.Id, r.OwnerId })
            .ToListAsync(cancellationToken);

        // Each taken by one conditional update: of instances claiming at once, the first to change the owner has it.
        var claimed = new List<string>();
        foreach (var run in orphaned)
        {
            using var entered = await writes.EnterAsync(cancellationToken);
            var taken = await db.Runs
                .Where(r => r.Id == run.Id && r.Status == running && r.OwnerId == run.OwnerId)
                .ExecuteUpdateAsync(set => set.SetProperty(r => r.OwnerId, instanceId), cancellationToken);
            if (taken == 1)
            {
                claimed.Add(run.Id);
            }
        }

        return claimed.Count == 0 ? [] : await OpenRunsAsync(db, db.Runs.Where(r => claimed.Contains(r.Id)), cancellationToken);
    }

    public async Task<IReadOnlyList<OpenRun>> ListOwnedOpenRunsAsync(string instanceId, IReadOnlyCollection<string> runIds, CancellationToken cancellationToken = default)
    {
        if (runIds.Count == 0)
        {
            return [];
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await OpenRunsAsync(db, db.Runs.Where(r => runIds.Contains(r.Id) && r.OwnerId == instanceId), cancellationToken);
    }

    public async Task<IReadOnlyList<string>> FindTakenOverAsync(string instanceId, IReadOnlyCollection<string> runIds, CancellationToken cancellationToken = default)
    {
        if (runIds.Count == 0)
        {
            return [];
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Runs.AsNoTracking()
            .Where(r => runIds.Contains(r.Id) && r.OwnerId != instanceId)
            .Select(r => r.Id)
            .ToListAsync(cancellationToken);
    }

    /// <summary>The open runs among <paramref name="runs"/>, oldest first, each with its stored wait.</summary>
    private static async Task<List<OpenRun>> OpenRunsAsync(ConclaveDbContext db, IQueryable<RunEntity> runs, CancellationToken cancellationToken)
    {
        var running = ToText(RunStatus.Running);
        var open = await runs.AsNoTracking()
            .Where(r => r.Status == running)
            .OrderBy(r => r.StartedAt)
            .ToListAsync(cancellationToken);
        if (open.Count == 0)
        {
            return [];
        }

        var ids = open.ConvertAll(r => r.Id);
        var waits = await db.RunWaits.AsNoTracking().Where(w => ids.Contains(w.RunId)).ToDictionaryAsync(w => w.RunId, cancellationToken);
        var requests = (await db.RunWaitRequests.AsNoTracking().Where(w => ids.Contains(w.RunId)).ToListAsync(cancellationToken))
            .ToLookup(w => w.RunId);
        return open.ConvertAll(r => new OpenRun(
            r.Id, r.SessionId, r.TenantId, r.StartedAt, new Usage(r.InputTokens, r.OutputTokens), r.UsageAtEventId,
            waits.TryGetValue(r.Id, out var w)
                ? new RunWait(
                    w.RunId,
                    [.. requests[r.Id].OrderBy(q => q.AnnouncementEventId)
                        .Select(q => new WaitRequest(q.RequestId, Enum.Parse<RequestKind>(q.Kind), q.Announcement, q.AnnouncementEventId, q.ExpiresAt))],
                    w.Checkpoint)
                : null));
    }

    public async Task SaveWaitAsync(RunWait wait, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(wait);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var row = await db.RunWaits.FindAsync([wait.RunId], cancellationToken);
        if (row is null)
        {
            db.RunWaits.Add(new RunWaitEntity { RunId = wait.RunId, Checkpoint = wait.Checkpoint });
        }
        else
        {
            row.Checkpoint = wait.Checkpoint;
        }

        // The requests become the given ones: those no longer open go, the others are written as given.
        var stored = await db.RunWaitRequests.Where(w => w.RunId == wait.RunId).ToDictionaryAsync(w => w.RequestId, cancellationToken);
        db.RunWaitRequests.RemoveRange(stored.Values.Where(w => !wait.Requests.Any(r => r.RequestId == w.RequestId)));
        foreach (var request in wait.Requests)
        {
            if (!stored.TryGetValue(request.RequestId, out var entity))
            {
                entity = new RunWaitRequestEntity { RunId = wait.RunId, RequestId = request.RequestId, Kind = string.Empty, Announcement = string.Empty };
                db.RunWaitRequests.Add(entity);
            }

            entity.Kind = request.Kind.ToString();
            entity.Announcement = request.Announcement;
            entity.AnnouncementEventId = request.AnnouncementEventId;
            entity.ExpiresAt = request.ExpiresAt;
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task DeleteWaitAsync(string runId, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        using var entered = await writes.EnterAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await DeleteWaitsAsync(db, db.Runs.Where(r => r.Id == runId).Select(r => r.Id), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Deletes the stored waits of the runs <paramref name="runIds"/> selects (a wait's requests, then its row); the caller holds the write gate.</summary>
    internal static async Task DeleteWaitsAsync(ConclaveDbContext db, IQueryable<string> runIds, CancellationToken cancellationToken)
    {
        await db.RunWaitRequests.Where(w => runIds.Contains(w.RunId)).ExecuteDeleteAsync(cancellationToken);
        await db.RunWaits.Where(w => runIds.Contains(w.RunId)).ExecuteDeleteAsync(cancellationToken);
    }

    private MessageEntity NewMessage(string sessionId, string runId, HistoryMessage message) => new()
    {
        SessionId = sessionId,
        RunId = runId,
        Role = message.Role,
        Content = message.Content,
        Tool = message.Tool,
        CreatedAt = time.GetUtcNow().UtcDateTime,
    };

    private static string ToText(RunStatus status) => status.ToString().ToLowerInvariant();
}
