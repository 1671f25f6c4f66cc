namespace Conclave.Agents.Teams;

/// <summary>An expert a team can call on.</summary>
/// <param name="Name">The expert's name, unique per tenant (built-in names included).</param>
/// <param name="Role">What the expert does, in a few words; the planner reads it.</param>
/// <param name="Instructions">The expert's system prompt.</param>
/// <param name="Tools">The tools the expert may use; all built-in tools (but <c>convene_team</c>) when null.</param>
/// <param name="Model">The model the expert asks for, when it differs from the session's.</param>
/// <param name="BuiltIn">Whether the expert comes with Conclave.</param>
public sealed record Expert(
    string Name, string Role, string Instructions, IReadOnlyList<string>? Tools = null, string? Model = null, bool BuiltIn = false);

/// <summary>Where the runtime finds a tenant's own experts.</summary>
public interface IExpertCatalog
{
    /// <summary>Every expert the tenant added (not the built-in ones).</summary>
    Task<IReadOnlyList<Expert>> ListAsync(string tenantId, CancellationToken cancellationToken = default);
}

/// <summary>The experts every tenant has.</summary>
public static class BuiltInExperts
{
    /// <summary>researcher, analyst, writer and critic.</summary>
    public static IReadOnlyList<Expert> All { get; } =
    [
        new("researcher", "Finds and gathers the facts the goal needs",
            "You are the team's researcher. Gather the facts, sources and figures the task needs. " +
            "State what you found plainly and say how sure you are; do not draw conclusions beyond the facts.",
            BuiltIn: true),
        new("analyst", "Examines facts, compares options and draws conclusions",
            "You are the team's analyst. Examine the question, weigh the options and their trade-offs, " +
            "and give clear conclusions with the reasons for them.",
            BuiltIn: true),
        new("writer", "Turns findings into a clear, well-organized text",
            "You are the team's writer. Turn the results you are given into a clear, well-organized text " +
            "for the user, keeping every fact and conclusion that matters.",
            BuiltIn: true),
        new("critic", "Reviews work for errors, gaps and weak arguments",
            "You are the team's critic. Review the work you are given for factual errors, gaps and weak " +
            "arguments, and say concretely what should change.",
            BuiltIn: true),
    ];

    /// <summary>Whether a name belongs to a built-in expert.</summary>
    public static bool IsBuiltIn(string name) => All.Any(e => string.Equals(e.Name, name, StringComparison.Ordinal));
}
