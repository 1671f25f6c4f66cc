namespace Conclave.Storage.Sqlite;

/// <summary>
/// One SQLite write at a time in this process, waited for without a thread. SQLite lets one connection write at
/// a time; the others would wait inside SQLite, each holding a thread-pool thread asleep in its busy handler, and
/// a hundred runs starting at once would starve the pool of the threads that send tokens. Every write takes this
/// gate: <c>SaveChanges</c> in <see cref="ConclaveDbContext.SaveChangesAsync(bool, CancellationToken)"/>, other writes
/// by <see cref="EnterAsync"/>. It is not reentrant: no save may run inside an entered section.
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
