using System.Data.Common;
using System.Threading.Channels;
using Conclave.Agents.Runs;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

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

        // Each statement is prepared once for the group and run for each write with its values: EF Core's change tracker
        // would build and parse the same INSERT again for every row, most of what a run's start cost here.
        await using var statements = new RunRecordStatements(db.Database.GetDbConnection(), transaction.GetDbTransaction());
        foreach (var write in group)
        {
            await write.ExecuteAsync(statements);
        }

        await transaction.CommitAsync();
    }
}

/// <summary>
/// The statements of <see cref="RunRecordWriter"/>'s group, in SQL every provider takes, each made once and run again
/// with new values. Times are written as the model stores them (<see cref="ConclaveDbContext.ToStored"/>), so that its reads take them back.
/// </summary>
internal sealed class RunRecordStatements(DbConnection connection, DbTransaction transaction) : IAsyncDisposable
{
    private DbCommand? _beginRun;
    private DbCommand? _addMessage;
    private DbCommand? _endRun;

    public Task BeginRunAsync(RunEntity run) => RunAsync(
        ref _beginRun,
        """
        INSERT INTO "runs" ("Id", "SessionId", "TenantId", "MessageId", "Status", "StartedAt", "InputTokens", "OutputTokens", "UsageAtEventId", "OwnerId")
        VALUES (@p0, @p1, @p2, @p3, @p4, @p5, 0, 0, 0, @p6)
        """,
        run.Id, run.SessionId, run.TenantId, run.MessageId, run.Status, ConclaveDbContext.ToStored(run.StartedAt), run.OwnerId);

    public Task AddMessageAsync(MessageEntity message) => RunAsync(
        ref _addMessage,
        """
        INSERT INTO "messages" ("SessionId", "RunId", "Role", "Content", "Tool", "CreatedAt")
        VALUES (@p0, @p1, @p2, @p3, @p4, @p5)
        """,
        message.SessionId, message.RunId, message.Role, message.Content, message.Tool, ConclaveDbContext.ToStored(message.CreatedAt));

    /// <summary>Ends the run; the session's <c>updated_at</c> moves with it, so a client listing sessions sees the run's end.</summary>
    public Task EndRunAsync(string runId, string status, DateTime at) => RunAsync(
        ref _endRun,
        """
        UPDATE "runs" SET "Status" = @p0, "EndedAt" = @p1 WHERE "Id" = @p2;
        UPDATE "sessions" SET "UpdatedAt" = @p1 WHERE "Id" = (SELECT "SessionId" FROM "runs" WHERE "Id" = @p2);
        """,
        status, ConclaveDbContext.ToStored(at), runId);

    public async ValueTask DisposeAsync()
    {
        foreach (var command in new[] { _beginRun, _addMessage, _endRun })
        {
            if (command is not null)
            {
                await command.DisposeAsync();
            }
        }
    }

    private Task RunAsync(ref DbCommand? command, string sql, params object?[] values)
    {
        if (command is null)
        {
            command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            for (var i = 0; i < values.Length; i++)
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = $"@p{i}";
                command.Parameters.Add(parameter);
            }
        }

        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        }

        return command.ExecuteNonQueryAsync();
    }
}

/// <summary>A write of <see cref="RunRecordWriter"/>: what it adds to a group's transaction, and its caller's task.</summary>
internal abstract class RunRecordWrite
{
    private readonly TaskCompletionSource _committed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Committed => _committed.Task;

    /// <summary>Writes it in the group's transaction.</summary>
    public abstract Task ExecuteAsync(RunRecordStatements statements);

    public void Succeed() => _committed.TrySetResult();

    public void Fail(Exception exception) => _committed.TrySetException(exception);

    /// <summary>A run recorded as running, with the user's message that started it; its session must exist.</summary>
    public sealed class Begin(RunEntity run, MessageEntity message) : RunRecordWrite
    {
        public RunEntity Run { get; } = run;

        public override async Task ExecuteAsync(RunRecordStatements statements)
        {
            await statements.BeginRunAsync(Run);
            await statements.AddMessageAsync(message);
        }
    }

    /// <summary>A message a run adds to its session's history.</summary>
    public sealed class Append(MessageEntity message) : RunRecordWrite
    {
        public override Task ExecuteAsync(RunRecordStatements statements) => statements.AddMessageAsync(message);
    }

    /// <summary>A run's end: its status and when, and its session's <c>updated_at</c>.</summary>
    public sealed class End(string runId, string status, DateTime at) : RunRecordWrite
    {
        public override Task ExecuteAsync(RunRecordStatements statements) => statements.EndRunAsync(runId, status, at);
    }
}
