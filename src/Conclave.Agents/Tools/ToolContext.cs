using Microsoft.Extensions.AI;

namespace Conclave.Agents.Tools;

/// <summary>What a tool call may use of the run that makes it.</summary>
/// <param name="Workspace">The session's workspace folder.</param>
/// <param name="Human">The user of the run, for questions.</param>
/// <param name="ConveneTeam">Runs a team for a goal and returns its synthesis; null where teams cannot be convened (inside a team).</param>
/// <param name="CallHuman">
/// The user, for questions a tool asks while it runs (an MCP server's elicitation). Unlike <c>ask_human</c>'s, such a
/// question is never stored as a wait, since the call it serves cannot outlive the process; <paramref name="Human"/> when null.
/// </param>
public sealed record ToolContext(
    Workspace Workspace, IHumanChannel Human, Func<string, CancellationToken, Task<string>>? ConveneTeam = null, IHumanChannel? CallHuman = null)
{
    /// <summary>Who a running tool asks its own questions (see <see cref="CallHuman"/>).</summary>
    public IHumanChannel HumanInCall => CallHuman ?? Human;

    /// <summary>Reads the context the runtime put into a call's arguments.</summary>
    public static ToolContext From(AIFunctionArguments arguments) =>
        arguments.Context?.TryGetValue(typeof(ToolContext), out var value) == true && value is ToolContext context
            ? context
            : throw new InvalidOperationException("The tool was called outside a run.");
}

/// <summary>Asks the user of a run a question and waits for the reply.</summary>
public interface IHumanChannel
{
    /// <summary>Sends <c>ask_human</c> and returns the user's reply.</summary>
    Task<string> AskAsync(string question, IReadOnlyList<string>? options, CancellationToken cancellationToken = default);
}
