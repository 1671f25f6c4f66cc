namespace Conclave.Storage;

/// <summary>A session as stored.</summary>
/// <param name="Id">The session's id.</param>
/// <param name="TenantId">The tenant that owns it.</param>
/// <param name="Title">Its title, if any.</param>
/// <param name="Metadata">The client's metadata, a JSON object's text, if any.</param>
/// <param name="CreatedAt">When it was created (UTC).</param>
/// <param name="UpdatedAt">When it last changed (UTC).</param>
public sealed record SessionRecord(string Id, string TenantId, string? Title, string? Metadata, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>
/// A change to a session's title and metadata: each is set only when its <c>Sets…</c> flag is, so that two changes at
/// once to different fields both hold.
/// </summary>
/// <param name="SetsTitle">Whether the title changes.</param>
/// <param name="Title">The new title (null: none).</param>
/// <param name="SetsMetadata">Whether the metadata changes.</param>
/// <param name="Metadata">The new metadata, a JSON object's text (null: none).</param>
public sealed record SessionChange(bool SetsTitle, string? Title, bool SetsMetadata, string? Metadata);

/// <summary>A message of a session's history, as the REST API lists it.</summary>
/// <param name="Role"><c>user</c>, <c>assistant</c> or <c>tool</c>.</param>
/// <param name="Content">The text.</param>
/// <param name="RunId">The run that wrote it.</param>
/// <param name="CreatedAt">When it was written (UTC).</param>
/// <param name="Tool">For a tool message, the tool.</param>
public sealed record SessionMessage(string Role, string Content, string RunId, DateTime CreatedAt, string? Tool);

/// <summary>Durable storage of sessions, for the host: each belongs to one tenant, and no other tenant finds it.</summary>
public interface ISessionStore
{
    /// <summary>Stores a new session.</summary>
    Task AddAsync(SessionRecord session, CancellationToken cancellationToken = default);

    /// <summary>
    /// Changes the tenant's session in one write (the fields the change sets, and the update time); returns the session
    /// as it is then, or null when that tenant has no such session.
    /// </summary>
    Task<SessionRecord?> UpdateAsync(string tenantId, string sessionId, SessionChange change, DateTime at, CancellationToken cancellationToken = default);

    /// <summary>The tenant's session with that id; null when there is none, or it is another tenant's.</summary>
    Task<SessionRecord?> FindAsync(string tenantId, string sessionId, CancellationToken cancellationToken = default);

    /// <summary>Up to <paramref name="limit"/> of the tenant's sessions, newest (highest id) first, with ids below <paramref name="before"/> when given.</summary>
    Task<IReadOnlyList<SessionRecord>> ListAsync(string tenantId, string? before, int limit, CancellationToken cancellationToken = default);

    /// <summary>The session's whole history (tool results included), oldest first.</summary>
    Task<IReadOnlyList<SessionMessage>> ListMessagesAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>Removes the session itself: from then on no run can start on it and it is found no more.</summary>
    Task RemoveAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>Removes what a removed session left, at once: its events, history, runs and their waits.</summary>
    Task RemoveDataAsync(string sessionId, CancellationToken cancellationToken = default);
}
