using ModelContextProtocol.Protocol;

namespace Conclave.Mcp;

/// <summary>
/// Whether a call of an MCP tool waits for a person's approval: <c>always</c>, <c>never</c>, or by the tool's own
/// annotations (<c>annotations</c>): a tool that says it only reads runs, any other (destructive, or saying nothing) asks.
/// </summary>
public static class McpConfirmation
{
    /// <summary>Every call asks.</summary>
    public const string Always = "always";

    /// <summary>No call asks.</summary>
    public const string Never = "never";

    /// <summary>Read-only tools run, the others ask.</summary>
    public const string Annotations = "annotations";

    /// <summary>The policies, for validation.</summary>
    public static IReadOnlyList<string> Policies { get; } = [Always, Never, Annotations];

    /// <summary>Whether a call of a tool with <paramref name="annotations"/> asks under <paramref name="policy"/>.</summary>
    public static bool Asks(string policy, ToolAnnotations? annotations) => policy switch
    {
        Always => true,
        Never => false,
        _ => annotations?.ReadOnlyHint != true,
    };
}
