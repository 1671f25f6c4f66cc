namespace Conclave.Storage;

/// <summary>
/// A Model Context Protocol server a tenant registered: how to reach it, and which of its tools wait for a person's
/// approval. Secrets (environment values of a <c>stdio</c> server, header values of an <c>http</c> one) are kept only
/// as <see cref="ProtectedSecrets"/>, which the host encrypts before storing; their names are not secret.
/// </summary>
/// <param name="Name">The server's name, the namespace of its tools (<c>name.tool</c>).</param>
/// <param name="Transport"><see cref="Stdio"/> or <see cref="Http"/>.</param>
/// <param name="Command">The program a <c>stdio</c> server runs.</param>
/// <param name="Arguments">Its arguments.</param>
/// <param name="Url">The streamable HTTP endpoint of an <c>http</c> server.</param>
/// <param name="EnvironmentNames">The names of the environment variables given to a <c>stdio</c> server.</param>
/// <param name="HeaderNames">The names of the headers sent to an <c>http</c> server.</param>
/// <param name="ProtectedSecrets">The environment and header values, encrypted by the host; null when there are none.</param>
/// <param name="Confirmation">The policy for the server's tools: <c>always</c>, <c>never</c> or <c>annotations</c>.</param>
/// <param name="ToolConfirmation">Policies of single tools (by the server's own tool name), over <paramref name="Confirmation"/>.</param>
/// <param name="TimeoutSeconds">How long one call may take; the server's setting when null.</param>
public sealed record McpServerRegistration(
    string Name,
    string Transport,
    string? Command,
    IReadOnlyList<string>? Arguments,
    string? Url,
    IReadOnlyList<string> EnvironmentNames,
    IReadOnlyList<string> HeaderNames,
    string? ProtectedSecrets,
    string Confirmation,
    IReadOnlyDictionary<string, string>? ToolConfirmation,
    int? TimeoutSeconds)
{
    /// <summary>A server started as a process of the host, spoken to over its standard input and output.</summary>
    public const string Stdio = "stdio";

    /// <summary>A server reached over streamable HTTP.</summary>
    public const string Http = "http";
}
