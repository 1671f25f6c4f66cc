using System.Text.RegularExpressions;
using Conclave.Mcp;
using Conclave.Storage;

namespace Conclave.Server.Mcp;

/// <summary>The body of <c>POST /api/v1/mcp-servers</c> and <c>PUT /api/v1/mcp-servers/{name}</c>.</summary>
/// <param name="Name">Letters, digits, '_' and '-', at most 32: the namespace of the server's tools (<c>name.tool</c>). In a PUT it may be left out.</param>
/// <param name="Transport"><c>stdio</c> (the admin only) or <c>http</c>.</param>
/// <param name="Command">For <c>stdio</c>: the program to run.</param>
/// <param name="Args">For <c>stdio</c>: its arguments.</param>
/// <param name="Env">For <c>stdio</c>: environment variables for it (secret: stored encrypted, never returned).</param>
/// <param name="Url">For <c>http</c>: the server's streamable HTTP endpoint.</param>
/// <param name="Headers">For <c>http</c>: headers sent with every request, such as its credentials (secret: stored encrypted, never returned).</param>
/// <param name="Confirmation"><c>annotations</c> (the default): read-only tools run, others ask; <c>always</c>; or <c>never</c>.</param>
/// <param name="ToolConfirmation">A policy for single tools, by the server's own tool name, over <paramref name="Confirmation"/>.</param>
/// <param name="TimeoutSeconds">How long one call may take; the server's setting (<c>Conclave:Mcp:CallTimeoutSeconds</c>) when left out.</param>
internal sealed partial record McpServerRequest(
    string? Name,
    string? Transport,
    string? Command = null,
    List<string>? Args = null,
    Dictionary<string, string>? Env = null,
    string? Url = null,
    Dictionary<string, string>? Headers = null,
    string? Confirmation = null,
    Dictionary<string, string>? ToolConfirmation = null,
    int? TimeoutSeconds = null)
{
    public const int MaxEntries = 100;
    public const int MaxValueLength = 8 * 1024;
    public const int MaxTimeoutSeconds = 24 * 3600;

    /// <summary>Checks the request's form; whether the caller may register a <c>stdio</c> server is the endpoint's to say.</summary>
    public Validation Validate()
    {
        var validation = new Validation()
            .Require(Name is not null && ServerName().IsMatch(Name), "name", "The name is required: 1 to 32 letters, digits, '_' or '-' (no '.', which separates it from its tools' names).")
            .Require(Transport is McpServerRegistration.Stdio or McpServerRegistration.Http, "transport", "The transport must be stdio or http.")
            .Require(Confirmation is null || McpConfirmation.Policies.Contains(Confirmation), "confirmation", "The confirmation policy must be always, never or annotations.")
            .Require(TimeoutSeconds is null or (>= 1 and <= MaxTimeoutSeconds), "timeout_seconds", $"The timeout must be 1 to {MaxTimeoutSeconds} seconds.")
            .Require(ToolConfirmation is null || ToolConfirmation.Count <= 1000, "tool_confirmation", "Give at most 1000 tool policies.");
        foreach (var (tool, policy) in ToolConfirmation ?? [])
        {
            validation.Require(tool.Length is > 0 and <= 128 && McpConfirmation.Policies.Contains(policy), "tool_confirmation",
                $"'{tool}': a tool's name must be 1 to 128 characters and its policy always, never or annotations.");
        }

        if (Transport == McpServerRegistration.Stdio)
        {
            validation
                .Require(!string.IsNullOrWhiteSpace(Command) && Command.Length <= 1024, "command", "A stdio server needs its command, at most 1024 characters.")
                .Require(Args is null || (Args.Count <= MaxEntries && Args.TrueForAll(a => a is not null && a.Length <= MaxValueLength)), "args", $"Give at most {MaxEntries} arguments of at most {MaxValueLength} characters.")
                .Require(Env is null || (Env.Count <= MaxEntries && Env.All(e => EnvironmentName().IsMatch(e.Key) && e.Value is not null && e.Value.Length <= MaxValueLength)), "env", $"Give at most {MaxEntries} variables: names of letters, digits and '_' not starting with a digit, values of at most {MaxValueLength} characters.")
                .Require(Url is null && Headers is null, "url", "A stdio server has no url or headers.");
        }
        else if (Transport == McpServerRegistration.Http)
        {
            validation
                .Require(Uri.TryCreate(Url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && string.IsNullOrEmpty(uri.UserInfo), "url", "An http server needs an absolute http or https URL without credentials in it (send them as headers).")
                .Require(Headers is null || (Headers.Count <= MaxEntries && Headers.All(h => HeaderName().IsMatch(h.Key) && h.Value is not null && h.Value.Length <= MaxValueLength && !h.Value.Any(char.IsControl))), "headers", $"Give at most {MaxEntries} headers: names of letters, digits and '-', values of at most {MaxValueLength} characters without line breaks.")
                .Require(Command is null && Args is null && Env is null, "command", "An http server has no command, args or env.");
        }

        return validation;
    }

    /// <summary>The registration a valid request describes, with its secrets protected.</summary>
    public McpServerRegistration ToRegistration(McpSecretProtector secrets) => new(
        Name!,
        Transport!,
        Command,
        Args,
        Url,
        [.. (Env ?? []).Keys.Order(StringComparer.Ordinal)],
        [.. (Headers ?? []).Keys.Order(StringComparer.Ordinal)],
        secrets.Protect(new McpSecrets(Env ?? [], Headers ?? [])),
        Confirmation ?? McpConfirmation.Annotations,
        ToolConfirmation,
        TimeoutSeconds);

    [GeneratedRegex("^[A-Za-z0-9_-]{1,32}$")]
    private static partial Regex ServerName();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
    private static partial Regex EnvironmentName();

    [GeneratedRegex("^[A-Za-z0-9-]{1,128}$")]
    private static partial Regex HeaderName();
}

/// <summary>A registered MCP server, without its secrets: the names of its environment variables and headers only.</summary>
internal sealed record McpServerResponse(
    string Name,
    string Transport,
    string? Command,
    List<string>? Args,
    List<string> EnvNames,
    string? Url,
    List<string> HeaderNames,
    string Confirmation,
    Dictionary<string, string>? ToolConfirmation,
    int? TimeoutSeconds,
    DateTime CreatedAt,
    DateTime UpdatedAt)
{
    public static McpServerResponse From(Stored<McpServerRegistration> stored)
    {
        var s = stored.Item;
        return new(s.Name, s.Transport, s.Command, s.Arguments?.ToList(), [.. s.EnvironmentNames], s.Url, [.. s.HeaderNames], s.Confirmation,
            s.ToolConfirmation?.ToDictionary(StringComparer.Ordinal), s.TimeoutSeconds, stored.CreatedAt, stored.UpdatedAt);
    }
}
