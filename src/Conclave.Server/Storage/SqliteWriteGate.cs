using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Conclave.Server.Storage;

/// <summary>
/// One SQLite write at a time in this process, waited for without a thread. SQLite lets one connection write at
/// a time; the others would wait inside SQLite, each holding a thread-pool thread asleep in its busy handler, and
/// a hundred runs starting at once would starve the pool of the threads that send tokens. Every write takes this
/// gate: <c>SaveChanges</c> through <see cref="SaveChangesGate"/>, other writes by <see cref="EnterAsync"/>.
/// </summary>
internal sealed class SqliteWriteGate : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Waits for the gate; disposing the result lets the next writer in.</summary>
    public async ValueTask<Entered> EnterAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        return new Entered(_gate);
    }

    public void Dispose() => _gate.Dispose();

    /// <summary>The gate, held until disposed.</summary>
    public readonly struct Entered(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }
}

/// <summary>Takes the write gate for the length of each <c>SaveChanges</c>.</summary>
internal sealed class SaveChangesGate(SqliteWriteGate gate) : SaveChangesInterceptor
{
    private readonly ConcurrentDictionary<DbContext, SqliteWriteGate.Entered> _held = new(ReferenceEqualityComparer.Instance);

    public override async ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        var entered = await gate.EnterAsync(cancellationToken);
        _held[eventData.Context!] = entered;
        return result;
    }

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result) =>
        throw new InvalidOperationException("Write with SaveChangesAsync: a synchronous save would wait for the write gate with a thread.");

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Leave(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Leave(eventData.Context);
        return Task.CompletedTask;
    }

    public override Task SaveChangesCanceledAsync(DbContextEventData eventData, CancellationToken cancellationToken = default)
    {
        Leave(eventData.Context);
        return Task.CompletedTask;
    }

    // Only a save that entered leaves: a save cancelled while it waited holds nothing.
    private void Leave(DbContext? context)
    {
        if (context is not null && _held.TryRemove(context, out var entered))
        {
            entered.Dispose();
        }
    }
}
