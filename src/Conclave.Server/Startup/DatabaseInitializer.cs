using Conclave.Agents.Events;
using Conclave.Agents.Runs;
using Conclave.Server.Options;
using Conclave.Storage;
using Microsoft.Extensions.Options;

namespace Conclave.Server.Startup;

/// <summary>
/// Prepares storage before the server takes requests: keeps enough threads for SQLite's blocking calls, locks the data
/// folder, applies migrations (switching SQLite to WAL), stores the events a crashed process journaled but had not stored,
/// and ends (or resumes waiting) the runs it left open.
/// </summary>
internal sealed class DatabaseInitializer(
    IStorageSchema schema,
    DataDirectoryLock dataLock,
    EventJournal journal,
    IEventStore events,
    RunRecovery recovery,
    IOptions<StorageOptions> options,
    IOptions<EventWriterOptions> eventOptions,
    IOptions<ClusterOptions> cluster,
    TimeProvider time)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        ThreadPool.GetMinThreads(out var workers, out var completionPorts);
        ThreadPool.SetMinThreads(Math.Max(workers, options.Value.MinThreads), completionPorts);
        dataLock.Acquire();
        await schema.MigrateAsync(cancellationToken);

        await journal.RestoreAsync(events, eventOptions.Value.MaxBatchSize, cancellationToken);
        await recovery.EndInterruptedRunsAsync(OwnersAliveSince(), cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // One process alone owns every open run; one of several leaves the runs of the instances still alive to them.
    private DateTime OwnersAliveSince() => string.IsNullOrWhiteSpace(cluster.Value.Redis)
        ? DateTime.MaxValue
        : time.GetUtcNow().UtcDateTime - TimeSpan.FromSeconds(cluster.Value.OwnerTimeoutSeconds);
}
