using Microsoft.Extensions.AI;

namespace Conclave.Agents.Tools;

/// <summary>A tool the agent may call: the function the model sees, and whether a person must approve each call.</summary>
/// <param name="Function">The function, its name, description and parameter schema.</param>
/// <param name="RequiresConfirmation">Whether a call waits for the user's approval.</param>
/// <param name="ConfirmationReason">What the user is told when asked to approve.</param>
public sealed record AgentTool(AIFunction Function, bool RequiresConfirmation = false, string? ConfirmationReason = null)
{
    /// <summary>The tool's name, as events, skills and the API show it (an MCP server's tools are <c>server.tool</c>).</summary>
    public string Name => Function.Name;

    /// <summary>
    /// The function as the model is offered it: under <see cref="ModelToolNames.For"/> of its name, which every provider
    /// takes. A call under either name reaches the tool.
    /// </summary>
    public AIFunction ModelFunction { get; } = ModelToolNames.For(Function.Name) is var modelName && modelName != Function.Name
        ? new RenamedFunction(Function, modelName)
        : Function;

    /// <summary>The function under another name; everything else is the inner function's.</summary>
    private sealed class RenamedFunction(AIFunction inner, string name) : DelegatingAIFunction(inner)
    {
        public override string Name => name;
    }
}
