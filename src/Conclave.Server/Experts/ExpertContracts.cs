using System.Text.RegularExpressions;
using Conclave.Agents.Tools;

namespace Conclave.Server.Experts;

/// <summary>The body of <c>POST /api/v1/experts</c> and <c>PUT /api/v1/experts/{name}</c>.</summary>
/// <param name="Name">Letters, digits, '_', '-' and '.', at most 64; not a built-in expert's name. In a PUT it may be left out.</param>
/// <param name="Role">What the expert does, in a few words (the planner reads it).</param>
/// <param name="Instructions">The expert's system prompt.</param>
/// <param name="Tools">The tools the expert may use; all built-in tools when left out.</param>
/// <param name="Model">The model the expert asks for, when it should differ from the session's.</param>
internal sealed partial record ExpertRequest(string? Name, string? Role, string? Instructions, List<string>? Tools, string? Model)
{
    /// <summary>Checks the request; <paramref name="knownTools"/> are those of its tools the caller's runs may use.</summary>
    public Validation Validate(IReadOnlySet<string> knownTools)
    {
        var validation = new Validation()
            .Require(Name is not null && ExpertName().IsMatch(Name), "name", "The name is required: 1 to 64 letters, digits, '_', '-' or '.'.")
            .Require(!string.IsNullOrWhiteSpace(Role) && Role.Length <= 200, "role", "The role is required, at most 200 characters.")
            .Require(!string.IsNullOrWhiteSpace(Instructions) && Instructions.Length <= 32 * 1024, "instructions", "The instructions are required, at most 32768 characters.")
            .Require(Model is null || (Model.Length is > 0 and <= 200), "model", "The model name must be 1 to 200 characters.");
        foreach (var tool in Tools ?? [])
        {
            validation.Require(knownTools.Contains(tool) && tool != ToolCatalog.ConveneTeamName, "tools", $"'{tool}' is not a tool an expert can use.");
        }

        return validation;
    }

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,64}$")]
    private static partial Regex ExpertName();
}

/// <summary>An expert, built-in or the tenant's own.</summary>
internal sealed record ExpertResponse(
    string Name, string Role, string Instructions, List<string>? Tools, string? Model, bool BuiltIn, DateTime? CreatedAt, DateTime? UpdatedAt);
