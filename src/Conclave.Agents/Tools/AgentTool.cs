using Microsoft.Extensions.AI;

namespace Conclave.Agents.Tools;

/// <summary>A tool the agent may call: the function the model sees, and whether a person must approve each call.</summary>
/// <param name="Function">The function, its name, description and parameter schema.</param>
/// <param name="RequiresConfirmation">Whether a call waits for the user's approval.</param>
/// <param name="ConfirmationReason">What the user is told when asked to approve.</param>
public sealed record AgentTool(AIFunction Function, bool RequiresConfirmation = false, string? ConfirmationReason = null)
{
    /// <summary>The tool's name.</summary>
    public string Name => Function.Name;
}
