namespace Conclave.Agents.Runs;

/// <summary>
/// How a client steers a run wherever it executes: <c>cancel</c>, <c>confirmation_reply</c> and <c>reply</c>. In one
/// process these reach the run in memory (<see cref="RunCoordinator"/>); across processes a message bus carries them.
/// </summary>
public interface IRunControl
{
    /// <summary>Cancels the session's active run (only if it is <paramref name="runId"/>, when given); false when there is none.</summary>
    Task<bool> CancelAsync(string sessionId, string? runId, CancellationToken cancellationToken = default);

    /// <summary>Answers a pending request of the session's active run; false when no such request is pending.</summary>
    Task<bool> AnswerAsync(string sessionId, string requestId, RequestKind kind, HumanAnswer answer, CancellationToken cancellationToken = default);

    /// <summary>The session's active run and its open requests, wherever it executes; null when it has none.</summary>
    Task<ActiveRun?> FindActiveAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>The active runs, of one tenant or (when null) of all, oldest first, wherever they execute.</summary>
    Task<IReadOnlyList<RunSummary>> ListActiveAsync(string? tenantId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stops a session's active run by its id, for <paramref name="reason"/>, and waits until it has ended, wherever it
    /// executes; false when no such run is active, or it already has its answer.
    /// </summary>
    Task<bool> StopRunAsync(string sessionId, string runId, StopReason reason, CancellationToken cancellationToken = default);
}
