using Microsoft.EntityFrameworkCore;

namespace Conclave.Storage.Sqlite;

/// <summary>Removes a session from storage, in the two steps that deleting one takes.</summary>
internal sealed class SessionData(IDbContextFactory<ConclaveDbContext> contexts, SqliteWriteGate writes)
{
    /// <summary>Removes the session itself: from then on no run can start on it and no socket can open to it.</summary>
    public async Task RemoveSessionAsync(string sessionId)
    {
        await using var db = await contexts.CreateDbContextAsync();
        using var entered = await writes.EnterAsync();
        await db.Sessions.Where(s => s.Id == sessionId).ExecuteDeleteAsync();
    }

    /// <summary>Removes everything else of a removed session, in one transaction: its events, history, runs and their waits.</summary>
    public async Task RemoveDataAsync(string sessionId)
    {
        await using var db = await contexts.CreateDbContextAsync();
        using var entered = await writes.EnterAsync();
        await using var transaction = await db.Database.BeginTransactionAsync();
        await db.Events.Where(e => e.SessionId == sessionId).ExecuteDeleteAsync();
        await db.Messages.Where(m => m.SessionId == sessionId).ExecuteDeleteAsync();
        await db.RunWaitRequests.Where(w => db.Runs.Any(r => r.Id == w.RunId && r.SessionId == sessionId)).ExecuteDeleteAsync();
        await db.RunWaits.Where(w => db.Runs.Any(r => r.Id == w.RunId && r.SessionId == sessionId)).ExecuteDeleteAsync();
        await db.Runs.Where(r => r.SessionId == sessionId).ExecuteDeleteAsync();
        await transaction.CommitAsync();
    }
}
