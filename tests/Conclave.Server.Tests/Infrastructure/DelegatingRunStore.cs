using Conclave.Agents.Events;
using Conclave.Agents.Runs;

namespace Conclave.Server.Tests.Infrastructure;

/// <summary>The real run store, for a test that changes one of its calls (to make storage slow, or fail).</summary>
internal class DelegatingRunStore(IRunStore store) : IRunStore
{
    public virtual Task<IReadOnlyList<HistoryMessage>> LoadHistoryAsync(string sessionId, int limit, CancellationToken cancellationToken = default) =>
        store.LoadHistoryAsync(sessionId, limit, cancellationToken);

    public virtual Task BeginRunAsync(RunRecord run, string userMessage, CancellationToken cancellationToken = default) =>
        store.BeginRunAsync(run, userMessage, cancellationToken);

    public virtual Task AppendMessageAsync(string sessionId, string runId, HistoryMessage message, CancellationToken cancellationToken = default) =>
        store.AppendMessageAsync(sessionId, runId, message, cancellationToken);

    public virtual Task RecordUsageAsync(string runId, Usage usage, long atEventId, CancellationToken cancellationToken = default) =>
        store.RecordUsageAsync(runId, usage, atEventId, cancellationToken);

    public virtual Task SaveWaitAsync(RunWait wait, CancellationToken cancellationToken = default) => store.SaveWaitAsync(wait, cancellationToken);

    public virtual Task DeleteWaitAsync(string runId, CancellationToken cancellationToken = default) => store.DeleteWaitAsync(runId, cancellationToken);

    public virtual Task EndRunAsync(string runId, RunStatus status, CancellationToken cancellationToken = default) =>
        store.EndRunAsync(runId, status, cancellationToken);

    public virtual Task<IReadOnlyList<OpenRun>> ListOpenRunsAsync(string? tenantId = null, CancellationToken cancellationToken = default) =>
        store.ListOpenRunsAsync(tenantId, cancellationToken);

    public virtual Task HeartbeatAsync(string instanceId, CancellationToken cancellationToken = default) =>
        store.HeartbeatAsync(instanceId, cancellationToken);

    public virtual Task<IReadOnlyList<OpenRun>> ClaimOrphanedRunsAsync(string instanceId, DateTime ownersAliveSince, CancellationToken cancellationToken = default) =>
        store.ClaimOrphanedRunsAsync(instanceId, ownersAliveSince, cancellationToken);

    public virtual Task<IReadOnlyList<OpenRun>> ListOwnedOpenRunsAsync(string instanceId, IReadOnlyCollection<string> runIds, CancellationToken cancellationToken = default) =>
        store.ListOwnedOpenRunsAsync(instanceId, runIds, cancellationToken);

    public virtual Task<IReadOnlyList<string>> FindTakenOverAsync(string instanceId, IReadOnlyCollection<string> runIds, CancellationToken cancellationToken = default) =>
        store.FindTakenOverAsync(instanceId, runIds, cancellationToken);

    public virtual Task<OpenRun?> FindOpenRunAsync(string sessionId, CancellationToken cancellationToken = default) =>
        store.FindOpenRunAsync(sessionId, cancellationToken);
}
