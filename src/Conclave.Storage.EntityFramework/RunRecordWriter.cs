using System.Threading.Channels;
using Conclave.Agents.Runs;
using Microsoft.EntityFrameworkCore;

namespace Conclave.Storage.EntityFramework;

/// <summary>
/// The run-record writes every run makes (its start with the user's message, the messages it adds to the history, its
/// end), committed in groups: whatever queued up while the last group was written goes in one transaction, so a
/// hundred runs starting at once cost one commit, not a hundred turns of the write gate. Each caller's task completes
/// once its own write is committed; a write that fails in a group is written again alone, so that only it fails.
/// </summary>
internal sealed class RunRecordWriter : IAsyncDisposable
{
    // The most writes one transaction takes; a larger backlog goes in several.
    private const int MaxGroup = 512;

    private readonly IDbContextFactory<ConclaveDbContext> _contexts;
    private readonly WriteGate _writes;
    private readonly Channel<RunRecordWrite> _queue = Channel.CreateUnbounded<RunRecordWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;

    public RunRecordWriter(IDbContextFactory<ConclaveDbContext> contexts, WriteGate writes)
    {
        _contexts = contexts;
        _writes = writes;
        _loop = Task.Run(WriteLoopAsync);
    }

    /// <summary>Queues a write; the task completes once it is committed, or fails with what refused it.</summary>
    public Task WriteAsync(RunRecordWrite write, CancellationToken cancellationToken)
    {
        if (!_queue.Writer.TryWrite(write))
        {
            throw new ObjectDisposedException(nameof(RunRecordWriter));
        }

        // The write goes ahead whether or not the caller still waits for it.
        return write.Committed.WaitAsync(cancellationToken);
    }

    /// <summary>Writes what is queued, then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
    }

    private async Task WriteLoopAsync()
    {
        var group = new List<RunRecordWrite>(MaxGroup);
        while (await _queue.Reader.WaitToReadAsync())
        {
            while (group.Count < MaxGroup && _queue.Reader.TryRead(out var write))
            {
                group.Add(write);
            }

            await WriteGroupAsync(group);
            group.Clear();
        }
    }

    private async Task WriteGroupAsync(List<RunRecordWrite> group)
    {
        try
        {
            await CommitAsync(group);
            group.ForEach(w => w.Succeed());
        }
        catch (Exception ex) when (group.Count == 1)
        {
            group[0].Fail(ex);
        }
        catch (Exception)
        {
            foreach (var write in group)
            {
                try
                {
                    await CommitAsync([write]);
                    write.Succeed();
                }
                catch (Exception ex)
                {
                    write.Fail(ex);
                }
            }
        }
    }

    /// <summary>One transaction for the group, in the process's turn for writes.</summary>
    private async Task CommitAsync(IReadOnlyList<RunRecordWrite> group)
    {
        await using var db = await _contexts.CreateDbContextAsync();
        using var entered = await _writes.EnterAsync();
        db.HoldsWriteGate = true;
        await using var transaction = await db.Database.BeginTransactionAsync();
        var begins = group.OfType<RunRecordWrite.Begin>().ToList();
        if (begins.Count > 0)
        {
            var sessionIds = begins.Select(b => b.Run.SessionId).Distinct(StringComparer.Ordinal).ToList();
            var existing = (await db.Sessions.Where(s => sessionIds.Contains(s.Id)).Select(s => s.Id).ToListAsync()).ToHashSet(StringComparer.Ordinal);
            foreach (var begin in begins)
            {
                if (!existing.Contains(begin.Run.SessionId))
                {
                    throw new SessionGoneException(begin.Run.SessionId);
                }
            }
        }

        foreach (var write in group)
        {
            write.Add(db);
        }

        await db.SaveChangesAsync();
        foreach (var end in group.OfType<RunRecordWrite.End>())
        {
            // The session's updated_at moves with it: a client listing sessions sees the run's end. Written as SQL (the
            // same for every provider): an update through LINQ is compiled per call, and most of a group is ends.
            await db.Database.ExecuteSqlAsync(
                $"""
                UPDATE "runs" SET "Status" = {end.Status}, "EndedAt" = {end.At} WHERE "Id" = {end.RunId};
                UPDATE "sessions" SET "UpdatedAt" = {end.At} WHERE "Id" = (SELECT "SessionId" FROM "runs" WHERE "Id" = {end.RunId});
                """);
        }

        await transaction.CommitAsync();
    }
}

/// <summary>A write of <see cref="RunRecordWriter"/>: what it adds to a group's transaction, and its caller's task.</summary>
internal abstract class RunRecordWrite
{
    private readonly TaskCompletionSource _committed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Committed => _committed.Task;

    /// <summary>Adds the write's new rows to the group's context (saved with the group).</summary>
    public virtual void Add(ConclaveDbContext db)
    {
    }

    public void Succeed() => _committed.TrySetResult();

    public void Fail(Exception exception) => _committed.TrySetException(exception);

    /// <summary>A run recorded as running, with the user's message that started it; its session must exist.</summary>
    public sealed class Begin(RunEntity run, MessageEntity message) : RunRecordWrite
    {
        public RunEntity Run { get; } = run;

        public override void Add(ConclaveDbContext db)
        {
            db.Runs.Add(Run);
            db.Messages.Add(message);
        }
    }

    /// <summary>A message a run adds to its session's history.</summary>
    public sealed class Append(MessageEntity message) : RunRecordWrite
    {
        public override void Add(ConclaveDbContext db) => db.Messages.Add(message);
    }

    /// <summary>A run's end: its status and when, and its session's <c>updated_at</c>.</summary>
    public sealed class End(string runId, string status, DateTime at) : RunRecordWrite
    {
        public string RunId { get; } = runId;

        public string Status { get; } = status;

        public DateTime At { get; } = at;
    }
}
