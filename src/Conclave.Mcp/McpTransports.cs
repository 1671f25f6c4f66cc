using Conclave.Agents.Tools;
using Conclave.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Client;

namespace Conclave.Mcp;

/// <summary>
/// How a registered server is reached. A <c>stdio</c> server runs as a process with a minimal environment (the few
/// variables programs need to start, such as PATH and HOME, and its registration's own), never the host's secrets. An
/// <c>http</c> server is reached over streamable HTTP only at public addresses, unless <see cref="McpOptions.AllowedHosts"/>
/// allows its host; the check is made on every connection.
/// </summary>
public sealed class McpTransports(McpSecretProtector secrets, IOptions<McpOptions> options, ILoggerFactory loggers)
{
    /// <summary>The rule an <c>http</c> server's address must keep, as told when it does not.</summary>
    public const string AddressRule = "MCP servers over HTTP must be on the public internet unless Conclave:Mcp:AllowedHosts allows their host";

    /// <summary>A transport to the server.</summary>
    public IClientTransport Create(McpServerRegistration server)
    {
        ArgumentNullException.ThrowIfNull(server);
        var secret = secrets.Unprotect(server.ProtectedSecrets);
        if (server.Transport == McpServerRegistration.Stdio)
        {
            var environment = StdioClientTransportOptions.GetDefaultEnvironmentVariables();
            foreach (var (name, value) in secret.Environment)
            {
                environment[name] = value;
            }

            return new StdioClientTransport(
                new StdioClientTransportOptions
                {
                    Name = server.Name,
                    Command = server.Command ?? throw new InvalidOperationException($"The stdio server '{server.Name}' has no command."),
                    Arguments = [.. server.Arguments ?? []],
                    InheritEnvironmentVariables = false,
                    EnvironmentVariables = environment,
                    ShutdownTimeout = TimeSpan.FromSeconds(5),
                },
                loggers);
        }

        var allowed = options.Value.AllowedHosts;
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            ConnectTimeout = TimeSpan.FromSeconds(options.Value.ConnectTimeoutSeconds),
            ConnectCallback = (context, cancellationToken) => PublicAddresses.ConnectAsync(context, allowed, AddressRule, cancellationToken),
        };
        return new HttpClientTransport(
            new HttpClientTransportOptions
            {
                Name = server.Name,
                Endpoint = new Uri(server.Url ?? throw new InvalidOperationException($"The http server '{server.Name}' has no URL.")),
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string>(secret.Headers, StringComparer.OrdinalIgnoreCase),
                ConnectionTimeout = TimeSpan.FromSeconds(options.Value.ConnectTimeoutSeconds),
            },
            new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan },
            loggers,
            ownsHttpClient: true);
    }
}
