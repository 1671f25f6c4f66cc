namespace Conclave.Agents.Tools;

/// <summary>
/// The names of the tools a tool source (an MCP server) gives: <c>server.tool</c>. A server's name has no '.', so the
/// first one in a name separates the server from its tool; a built-in tool's name has none.
/// </summary>
public static class SourcedToolName
{
    /// <summary>The name of <paramref name="server"/>'s tool <paramref name="tool"/>.</summary>
    public static string Of(string server, string tool) => $"{server}.{tool}";

    /// <summary>The server a tool of this name would come from; null when the name is not <c>server.tool</c>.</summary>
    public static string? ServerOf(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 && dot < name.Length - 1 ? name[..dot] : null;
    }
}
