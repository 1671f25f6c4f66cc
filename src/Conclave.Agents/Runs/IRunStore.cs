using Conclave.Agents.Events;

namespace Conclave.Agents.Runs;

/// <summary>A message of a session's history.</summary>
/// <param name="Role"><c>user</c>, <c>assistant</c> or <c>tool</c>.</param>
/// <param name="Content">The text.</param>
/// <param name="Tool">For a tool message, the tool that produced it.</param>
public sealed record HistoryMessage(string Role, string Content, string? Tool = null)
{
    /// <summary>The role of the user's messages.</summary>
    public const string User = "user";

    /// <summary>The role of the agent's answers.</summary>
    public const string Assistant = "assistant";

    /// <summary>The role of tool results.</summary>
    public const string ToolRole = "tool";
}

/// <summary>A run as recorded when it starts.</summary>
public sealed record RunRecord(string RunId, string SessionId, string TenantId, string? MessageId, DateTime StartedAt, string? OwnerId = null);

/// <summary>A run that was still open when the process stopped.</summary>
/// <param name="RunId">The run.</param>
/// <param name="SessionId">Its session.</param>
/// <param name="TenantId">The tenant that owns the session.</param>
/// <param name="StartedAt">When it started.</param>
/// <param name="Usage">The tokens it had used when it last recorded its usage.</param>
/// <param name="UsageAtEventId">The session's newest event of the run at that moment.</param>
/// <param name="Wait">What it was waiting for, when it waited on a person and could go on after a restart.</param>
public sealed record OpenRun(string RunId, string SessionId, string TenantId, DateTime StartedAt, Usage Usage, long UsageAtEventId, RunWait? Wait);

/// <summary>A run's wait on people, stored so that it outlives the process.</summary>
/// <param name="RunId">The waiting run.</param>
/// <param name="Requests">Its open requests (one for a single agent; one per waiting expert in a team), oldest first.</param>
/// <param name="Checkpoint">Where the run stands: what it needs to go on once answered (the runtime's own JSON).</param>
public sealed record RunWait(string RunId, IReadOnlyList<WaitRequest> Requests, string Checkpoint);

/// <summary>An open request of a waiting run.</summary>
/// <param name="RequestId">The request.</param>
/// <param name="Kind">What answer it waits for.</param>
/// <param name="Announcement">The <c>confirmation_request</c> or <c>ask_human</c> event as it was sent.</param>
/// <param name="AnnouncementEventId">That event's id.</param>
/// <param name="ExpiresAt">When the wait ends unanswered (UTC), or null for never.</param>
public sealed record WaitRequest(string RequestId, RequestKind Kind, string Announcement, long AnnouncementEventId, DateTime? ExpiresAt)
{
    /// <summary>The announcement as the session event it was sent as.</summary>
    public Events.SessionEvent AnnouncementEvent(string sessionId, string runId) =>
        new(sessionId, AnnouncementEventId, runId, Kind == RequestKind.Confirmation ? "confirmation_request" : "ask_human", System.Text.Encoding.UTF8.GetBytes(Announcement));
}

/// <summary>How a run ended, as recorded.</summary>
public enum RunStatus
{
    /// <summary>Still going.</summary>
    Running,

    /// <summary>Ended with a final answer.</summary>
    Completed,

    /// <summary>Ended with an error.</summary>
    Failed,

    /// <summary>Cancelled.</summary>
    Cancelled,
}

/// <summary>Durable storage of runs and of the session history they write.</summary>
public interface IRunStore
{
    /// <summary>The newest messages of the session (user and assistant), oldest first.</summary>
    Task<IReadOnlyList<HistoryMessage>> LoadHistoryAsync(string sessionId, int limit, CancellationToken cancellationToken = default);

    /// <summary>Records a run as running, with the user's message that started it.</summary>
    Task BeginRunAsync(RunRecord run, string userMessage, CancellationToken cancellationToken = default);

    /// <summary>Appends a message of a run to its session's history.</summary>
    Task AppendMessageAsync(string sessionId, string runId, HistoryMessage message, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records the tokens a run has used so far, as of the session's event <paramref name="atEventId"/>. Usage only grows:
    /// a record older than one already stored (concurrent experts) changes nothing.
    /// </summary>
    Task RecordUsageAsync(string runId, Usage usage, long atEventId, CancellationToken cancellationToken = default);

    /// <summary>Stores a run's wait, in place of the one stored before (all its requests at once): a restart then finds it.</summary>
    Task SaveWaitAsync(RunWait wait, CancellationToken cancellationToken = default);

    /// <summary>Forgets a run's wait: it was answered, expired or given up.</summary>
    Task DeleteWaitAsync(string runId, CancellationToken cancellationToken = default);

    /// <summary>Records how a run ended.</summary>
    Task EndRunAsync(string runId, RunStatus status, CancellationToken cancellationToken = default);

    /// <summary>Every run recorded as running, of one tenant or (when null) of all, oldest first.</summary>
    Task<IReadOnlyList<OpenRun>> ListOpenRunsAsync(string? tenantId = null, CancellationToken cancellationToken = default);

    /// <summary>The session's open run, with its stored wait, or null when it has none (whichever process runs it).</summary>
    Task<OpenRun?> FindOpenRunAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>Records that the instance <paramref name="instanceId"/> is alive now (its runs are not to be taken over).</summary>
    Task HeartbeatAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes over, for <paramref name="instanceId"/>, the open runs whose owner is another instance that has not been
    /// alive since <paramref name="ownersAliveSince"/> (or has no owner); returns them. Each run is taken by one instance
    /// only, however many ask at once.
    /// </summary>
    Task<IReadOnlyList<OpenRun>> ClaimOrphanedRunsAsync(string instanceId, DateTime ownersAliveSince, CancellationToken cancellationToken = default);

    /// <summary>
    /// Those of <paramref name="runIds"/> still open and owned by <paramref name="instanceId"/>, with their waits: runs
    /// the instance stopped while it could not reach the database, which no other instance took over meanwhile.
    /// </summary>
    Task<IReadOnlyList<OpenRun>> ListOwnedOpenRunsAsync(string instanceId, IReadOnlyCollection<string> runIds, CancellationToken cancellationToken = default);

    /// <summary>Those of <paramref name="runIds"/> (runs this instance executes) that another instance has taken over.</summary>
    Task<IReadOnlyList<string>> FindTakenOverAsync(string instanceId, IReadOnlyCollection<string> runIds, CancellationToken cancellationToken = default);
}
