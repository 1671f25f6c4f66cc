namespace Conclave.Agents.Skills;

/// <summary>A tenant's skill: when its keywords match a message, its instructions and tools shape the run.</summary>
/// <param name="Name">The skill's name, unique per tenant.</param>
/// <param name="Description">What the skill is for.</param>
/// <param name="Keywords">Words or phrases that select the skill.</param>
/// <param name="Instructions">The system prompt of a run the skill shapes.</param>
/// <param name="Tools">The tools such a run may use; all tools when null.</param>
/// <param name="Mode"><c>team</c> when the skill hands its goals to a team of experts; <c>single</c> or null otherwise.</param>
/// <param name="Model">The model the skill's runs ask for, when it differs from the session's (same provider).</param>
/// <param name="ConfirmationTimeoutSeconds">How long the skill's confirmations wait (0: until answered); the server's setting when null.</param>
/// <param name="AskHumanTimeoutSeconds">How long the skill's questions wait (0: until answered); the server's setting when null.</param>
public sealed record Skill(
    string Name,
    string Description,
    IReadOnlyList<string> Keywords,
    string Instructions,
    IReadOnlyList<string>? Tools,
    string? Mode = null,
    string? Model = null,
    int? ConfirmationTimeoutSeconds = null,
    int? AskHumanTimeoutSeconds = null);

/// <summary>Where the runtime finds a tenant's skills.</summary>
public interface ISkillCatalog
{
    /// <summary>Every skill of the tenant.</summary>
    Task<IReadOnlyList<Skill>> ListAsync(string tenantId, CancellationToken cancellationToken = default);
}
