using System.ComponentModel.DataAnnotations;

namespace Conclave.Mcp;

/// <summary>How Conclave works with the MCP servers registered with it (<c>Conclave:Mcp</c>).</summary>
public sealed class McpOptions
{
    /// <summary>
    /// How long a tool call may go without finishing or reporting progress, unless the server's registration sets its
    /// own: each progress notification starts it again.
    /// </summary>
    [Range(1, 24 * 3600)]
    public int CallTimeoutSeconds { get; set; } = 120;

    /// <summary>How long a tool call may take at most, progress or not.</summary>
    [Range(1, 7 * 24 * 3600)]
    public int MaxCallSeconds { get; set; } = 3600;

    /// <summary>How long starting or reaching a server and its handshake may take.</summary>
    [Range(1, 600)]
    public int ConnectTimeoutSeconds { get; set; } = 30;

    /// <summary>After a server could not be reached, how long runs go without its tools before it is tried again.</summary>
    [Range(0, 3600)]
    public int RetryAfterSeconds { get; set; } = 10;

    /// <summary>The most bytes of a tool's output handed to the model (UTF-8); the rest is cut off, and the model is told.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxOutputBytes { get; set; } = 256 * 1024;

    /// <summary>How long a connection goes unused before it is closed (a <c>stdio</c> server's process stopped); 0 keeps it open.</summary>
    [Range(0, 7 * 24 * 3600)]
    public int IdleSeconds { get; set; } = 300;

    /// <summary>
    /// Hosts an <c>http</c> server may be on although they resolve to loopback or private addresses, in the form of
    /// <c>Conclave:Tools:HttpGet:AllowedHosts</c> (<c>name</c>, <c>address</c>, <c>name:port</c>). Empty by default: MCP
    /// servers over HTTP must be on the public internet.
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];
}
