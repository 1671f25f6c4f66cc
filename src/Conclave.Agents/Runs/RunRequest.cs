namespace Conclave.Agents.Runs;

/// <summary>What a client asked for with a <c>message</c>.</summary>
/// <param name="TenantId">The tenant that owns the session.</param>
/// <param name="SessionId">The session the run belongs to.</param>
/// <param name="Content">The user's message.</param>
/// <param name="MessageId">The client's own id for the message, if it gave one.</param>
/// <param name="Mode"><c>auto</c>, <c>single</c> or <c>team</c>; null means auto.</param>
/// <param name="SkillName">A skill the client forces, if any.</param>
public sealed record RunRequest(
    string TenantId, string SessionId, string Content, string? MessageId = null, string? Mode = null, string? SkillName = null);

/// <summary>The answer to a request to start a run.</summary>
/// <param name="RunId">The new run's id, when it started.</param>
/// <param name="ErrorCode">Why it did not start.</param>
/// <param name="ErrorMessage">A sentence for the client saying why.</param>
/// <param name="Retryable">Whether sending the message again later may work.</param>
public sealed record StartRunResult(string? RunId, string? ErrorCode = null, string? ErrorMessage = null, bool Retryable = false)
{
    /// <summary>Whether the run started.</summary>
    public bool Started => RunId is not null;
}

/// <summary>An active run as an operator sees it.</summary>
/// <param name="RunId">The run's id.</param>
/// <param name="SessionId">Its session.</param>
/// <param name="TenantId">The tenant that owns the session.</param>
/// <param name="StartedAt">When the run started (UTC).</param>
/// <param name="PendingRequests">How many of its requests wait for a person.</param>
public sealed record RunSummary(string RunId, string SessionId, string TenantId, DateTime StartedAt, int PendingRequests);

/// <summary>The active run of a session, as a newly connected client needs to know it.</summary>
/// <param name="RunId">The run's id.</param>
/// <param name="Pending">The still-open <c>confirmation_request</c> and <c>ask_human</c> events.</param>
public sealed record ActiveRun(string RunId, IReadOnlyList<Events.SessionEvent> Pending);

/// <summary>Why a run is stopped before it ends by itself.</summary>
public enum StopReason
{
    /// <summary>A client sent <c>cancel</c>.</summary>
    Cancelled,

    /// <summary>The session was deleted.</summary>
    SessionDeleted,

    /// <summary>The server is shutting down.</summary>
    Shutdown,

    /// <summary>The API key of the run's tenant was revoked.</summary>
    KeyRevoked,

    /// <summary>An operator (the admin key) cancelled it.</summary>
    CancelledByOperator,

    /// <summary>
    /// The server is shutting down while the run waits on a person with its wait stored: it is left as it is, open,
    /// and the next start takes it up again.
    /// </summary>
    Suspended,

    /// <summary>
    /// Another instance took the run over, or could have: this one could not reach the database for so long that its
    /// lease on the run may have lapsed (the taker ends the run, or waits on it there). The run stops here without a
    /// terminal event or a record of its end, and its unstored events are dropped.
    /// </summary>
    TakenOver,
}
