using System.ComponentModel.DataAnnotations;

namespace Conclave.Agents.Teams;

/// <summary>Settings of team runs (<c>Conclave:Teams</c>).</summary>
public sealed class TeamOptions
{
    /// <summary>The most tasks a plan may have.</summary>
    [Range(1, 64)]
    public int MaxTasks { get; set; } = 8;

    /// <summary>The most tasks that run at the same time.</summary>
    [Range(1, 64)]
    public int MaxParallel { get; set; } = 4;

    /// <summary>How long one task may take before it fails.</summary>
    [Range(1, 24 * 3600)]
    public int TaskTimeoutSeconds { get; set; } = 600;
}
