namespace Conclave.Storage.EntityFramework;

/// <summary>
/// How many writes of this process go to the database at once, waited for without a thread. SQLite lets one
/// connection write at a time; the others would wait inside SQLite, each holding a thread-pool thread asleep in its
/// busy handler, and a hundred runs starting at once would starve the pool of the threads that send tokens: so its
/// provider writes one at a time (<see cref="OneAtATime"/>). A server database takes concurrent writers
/// (<see cref="Unlimited"/>). Every write takes this gate: <c>SaveChanges</c> in
/// <see cref="ConclaveDbContext.SaveChangesAsync(bool, CancellationToken)"/>, other writes by <see cref="EnterAsync"/>.
/// It is not reentrant: no save may run inside an entered section.
/// </summary>
internal sealed class WriteGate : IDisposable
{
    private readonly SemaphoreSlim? _gate;

    private WriteGate(SemaphoreSlim? gate) => _gate = gate;

    /// <summary>One write at a time.</summary>
    public static WriteGate OneAtATime() => new(new SemaphoreSlim(1, 1));

    /// <summary>Writes go as they come.</summary>
    public static WriteGate Unlimited() => new(null);

    /// <summary>Waits for the gate; disposing the result lets the next writer in.</summary>
    public async ValueTask<Entered> EnterAsync(CancellationToken cancellationToken = default)
    {
        if (_gate is not null)
        {
            await _gate.WaitAsync(cancellationToken);
        }

        return new Entered(_gate);
    }

    public void Dispose() => _gate?.Dispose();

    /// <summary>The gate, held until disposed.</summary>
    public readonly struct Entered(SemaphoreSlim? gate) : IDisposable
    {
        public void Dispose() => gate?.Release();
    }
}
