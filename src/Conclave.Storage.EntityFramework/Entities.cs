namespace Conclave.Storage.EntityFramework;

/// <summary>A session row.</summary>
internal sealed class SessionEntity
{
    public required string Id { get; set; }

    public required string TenantId { get; set; }

    public string? Title { get; set; }

    /// <summary>The client's metadata object, as JSON.</summary>
    public string? Metadata { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }
}

/// <summary>A message of a session's history.</summary>
internal sealed class MessageEntity
{
    public long Id { get; set; }

    public required string SessionId { get; set; }

    public required string RunId { get; set; }

    public required string Role { get; set; }

    public required string Content { get; set; }

    public string? Tool { get; set; }

    public DateTime CreatedAt { get; set; }
}

/// <summary>
/// A row of the event log: one event, or consecutive events of one run and type stored together (ids
/// <see cref="EventId"/> to <see cref="LastEventId"/>). <see cref="Payload"/> is the exact JSON every client received:
/// the event's object, or for several events a JSON array of them.
/// </summary>
internal sealed class EventEntity
{
    public required string SessionId { get; set; }

    public long EventId { get; set; }

    public long LastEventId { get; set; }

    public string? RunId { get; set; }

    public required string Type { get; set; }

    public required string Payload { get; set; }

    /// <summary>When the row was stored (UTC); each event's own time is its <c>ts</c>.</summary>
    public DateTime CreatedAt { get; set; }
}

/// <summary>A run and how it ended.</summary>
internal sealed class RunEntity
{
    public required string Id { get; set; }

    public required string SessionId { get; set; }

    public required string TenantId { get; set; }

    public string? MessageId { get; set; }

    public required string Status { get; set; }

    public DateTime StartedAt { get; set; }

    public DateTime? EndedAt { get; set; }

    /// <summary>Tokens the run had used when it last recorded its usage (after each model turn that calls tools).</summary>
    public long InputTokens { get; set; }

    public long OutputTokens { get; set; }

    /// <summary>The session's newest event of the run when its usage was last recorded.</summary>
    public long UsageAtEventId { get; set; }

    /// <summary>The instance executing the run (<c>instances.Id</c>); null for runs recorded before instances had ids.</summary>
    public string? OwnerId { get; set; }
}

/// <summary>An instance of the service and when it last said it was alive.</summary>
internal sealed class InstanceEntity
{
    public required string Id { get; set; }

    public DateTime HeartbeatAt { get; set; }
}

/// <summary>A run's wait on people, kept so that it outlives the process: where the run stands, and its open requests.</summary>
internal sealed class RunWaitEntity
{
    public required string RunId { get; set; }

    public required string Checkpoint { get; set; }
}

/// <summary>One open request of a waiting run.</summary>
internal sealed class RunWaitRequestEntity
{
    public required string RunId { get; set; }

    public required string RequestId { get; set; }

    public required string Kind { get; set; }

    public required string Announcement { get; set; }

    public long AnnouncementEventId { get; set; }

    public DateTime? ExpiresAt { get; set; }
}

/// <summary>A tenant's skill.</summary>
internal sealed class SkillEntity : ITenantItemEntity
{
    public required string TenantId { get; set; }

    public required string Name { get; set; }

    public required string Description { get; set; }

    public List<string> Keywords { get; set; } = [];

    public required string Instructions { get; set; }

    public List<string>? Tools { get; set; }

    /// <summary><c>team</c> when the skill hands its goals to a team; null for single-agent runs.</summary>
    public string? Mode { get; set; }

    /// <summary>The model the skill's runs ask for; the session's when null.</summary>
    public string? Model { get; set; }

    /// <summary>How long the skill's confirmations wait, 0 for no limit; the server's setting when null.</summary>
    public int? ConfirmationTimeoutSeconds { get; set; }

    /// <summary>How long the skill's questions wait, 0 for no limit; the server's setting when null.</summary>
    public int? AskHumanTimeoutSeconds { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }
}

/// <summary>A tenant's own expert for team runs.</summary>
internal sealed class ExpertEntity : ITenantItemEntity
{
    public required string TenantId { get; set; }

    public required string Name { get; set; }

    public required string Role { get; set; }

    public required string Instructions { get; set; }

    public List<string>? Tools { get; set; }

    public string? Model { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }
}

/// <summary>A tenant's MCP server registration; its secrets only as the host encrypted them.</summary>
internal sealed class McpServerEntity : ITenantItemEntity
{
    public required string TenantId { get; set; }

    public required string Name { get; set; }

    /// <summary><c>stdio</c> or <c>http</c>.</summary>
    public required string Transport { get; set; }

    public string? Command { get; set; }

    public List<string>? Arguments { get; set; }

    public string? Url { get; set; }

    public List<string> EnvironmentNames { get; set; } = [];

    public List<string> HeaderNames { get; set; } = [];

    public string? ProtectedSecrets { get; set; }

    /// <summary><c>always</c>, <c>never</c> or <c>annotations</c>.</summary>
    public required string Confirmation { get; set; }

    /// <summary>Policies of single tools (tool name to policy), as a JSON object; null when there are none.</summary>
    public string? ToolConfirmation { get; set; }

    public int? TimeoutSeconds { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }
}

/// <summary>A key of the Data Protection key ring, as the XML its key manager wrote; every instance reads the same ring.</summary>
internal sealed class SecretKeyEntity
{
    public int Id { get; set; }

    public required string FriendlyName { get; set; }

    public required string Xml { get; set; }
}

/// <summary>An API key: only its SHA-256 hash is kept.</summary>
internal sealed class ApiKeyEntity
{
    public required string Id { get; set; }

    public required string Name { get; set; }

    public required byte[] KeyHash { get; set; }

    /// <summary>The first characters of the key, so a person can tell keys apart.</summary>
    public required string Prefix { get; set; }

    public bool IsAdmin { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime? RevokedAt { get; set; }
}

/// <summary>A row of a tenant's named items (skills, experts, MCP servers).</summary>
internal interface ITenantItemEntity
{
    string TenantId { get; set; }

    string Name { get; set; }

    DateTime CreatedAt { get; set; }

    DateTime UpdatedAt { get; set; }
}
