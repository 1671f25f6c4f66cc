using System.Text.RegularExpressions;

namespace Conclave.Server.Skills;

/// <summary>The body of <c>POST /api/v1/skills</c> and <c>PUT /api/v1/skills/{name}</c>.</summary>
/// <param name="Name">Letters, digits, '_', '-' and '.', at most 64; in a PUT it may be left out.</param>
/// <param name="Description">What the skill is for.</param>
/// <param name="Keywords">Words or phrases that select the skill (at least one).</param>
/// <param name="Instructions">The system prompt of the runs the skill shapes.</param>
/// <param name="Tools">The tools those runs may use; all when left out.</param>
/// <param name="Mode"><c>team</c> to hand the skill's goals to a team of experts; <c>single</c> (the default) for one agent.</param>
/// <param name="Model">The model the skill's runs ask for, when it should differ from the session's (same provider).</param>
/// <param name="ConfirmationTimeoutSeconds">How long the skill's confirmations wait, 0 for no limit; the server's setting when left out.</param>
/// <param name="AskHumanTimeoutSeconds">How long the skill's questions wait, 0 for no limit; the server's setting when left out.</param>
internal sealed partial record SkillRequest(
    string? Name,
    string? Description,
    List<string>? Keywords,
    string? Instructions,
    List<string>? Tools,
    string? Mode = null,
    string? Model = null,
    int? ConfirmationTimeoutSeconds = null,
    int? AskHumanTimeoutSeconds = null)
{
    public const int MaxKeywords = 100;

    /// <summary>The longest wait a skill may set: 30 days, as the server's own settings.</summary>
    public const int MaxWaitSeconds = 30 * 24 * 3600;
    public const int MaxInstructionsLength = 32 * 1024;

    /// <summary>Checks the request; <paramref name="knownTools"/> are those of its tools the caller's runs may use.</summary>
    public Validation Validate(IReadOnlySet<string> knownTools)
    {
        var validation = new Validation()
            .Require(Name is not null && SkillName().IsMatch(Name), "name", "The name is required: 1 to 64 letters, digits, '_', '-' or '.'.")
            .Require(Keywords is { Count: > 0 and <= MaxKeywords }, "keywords", $"Give 1 to {MaxKeywords} keywords.")
            .Require(Keywords is null || Keywords.TrueForAll(k => !string.IsNullOrWhiteSpace(k) && k.Length <= 100), "keywords", "A keyword must be 1 to 100 characters.")
            .Require(!string.IsNullOrWhiteSpace(Instructions), "instructions", "The instructions are required.")
            .Require(Instructions is null || Instructions.Length <= MaxInstructionsLength, "instructions", $"The instructions are longer than {MaxInstructionsLength} characters.")
            .Require(Description is null || Description.Length <= 1000, "description", "The description is longer than 1000 characters.")
            .Require(Mode is null or "single" or "team", "mode", "The mode must be single or team.")
            .Require(Model is null || (Model.Length is > 0 and <= 200), "model", "The model name must be 1 to 200 characters.")
            .Require(ConfirmationTimeoutSeconds is null or (>= 0 and <= MaxWaitSeconds), "confirmation_timeout_seconds", $"The confirmation timeout must be 0 (no limit) to {MaxWaitSeconds} seconds.")
            .Require(AskHumanTimeoutSeconds is null or (>= 0 and <= MaxWaitSeconds), "ask_human_timeout_seconds", $"The ask_human timeout must be 0 (no limit) to {MaxWaitSeconds} seconds.");
        foreach (var tool in Tools ?? [])
        {
            validation.Require(knownTools.Contains(tool), "tools", $"There is no tool named '{tool}'.");
        }

        return validation;
    }

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,64}$")]
    private static partial Regex SkillName();
}

/// <summary>A skill.</summary>
internal sealed record SkillResponse(
    string Name,
    string Description,
    List<string> Keywords,
    string Instructions,
    List<string>? Tools,
    string Mode,
    string? Model,
    int? ConfirmationTimeoutSeconds,
    int? AskHumanTimeoutSeconds,
    DateTime CreatedAt,
    DateTime UpdatedAt);
