using System.Net;
using System.Net.Http;
using System.Net.Sockets;

namespace Conclave.Agents.Tools;

/// <summary>
/// Outbound connections that reach only public addresses (<see cref="NetworkAddressPolicy"/>), unless an operator's
/// allowlist names the host: what <c>http_get</c> and tenants' MCP servers connect through. The check is made on every
/// connection, against the addresses the name resolves to then, so that a name that later resolves elsewhere is caught.
/// </summary>
public static class PublicAddresses
{
    /// <summary>
    /// A <see cref="SocketsHttpHandler.ConnectCallback"/>: connects when <paramref name="allowedHosts"/> allows the
    /// endpoint or every address it resolves to is public; else throws a <see cref="ToolException"/> that ends with
    /// <paramref name="rule"/>.
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(
        SocketsHttpConnectionContext context, IReadOnlyCollection<string> allowedHosts, string rule, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var host = context.DnsEndPoint.Host;
        var port = context.DnsEndPoint.Port;
        var addresses = await CheckAsync(host, port, allowedHosts, rule, cancellationToken);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The addresses <paramref name="host"/> resolves to, when <paramref name="allowedHosts"/> allows it or they are all
    /// public; else throws a <see cref="ToolException"/> that ends with <paramref name="rule"/>.
    /// </summary>
    public static async Task<IPAddress[]> CheckAsync(
        string host, int port, IReadOnlyCollection<string> allowedHosts, string rule, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(allowedHosts);
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken);
        if (addresses.Length == 0)
        {
            throw new ToolException($"'{host}' did not resolve to any address.");
        }

        var allowed = allowedHosts.Any(entry => AllowsEndpoint(entry, host, port));
        if (!allowed && addresses.FirstOrDefault(a => !NetworkAddressPolicy.IsPublic(a)) is { } refused)
        {
            throw new ToolException($"'{host}' resolves to {refused}, which is not a public address; {rule}.");
        }

        return addresses;
    }

    /// <summary>
    /// Whether an allowlist entry allows a host and port: <c>host</c> or <c>address</c> allows every port,
    /// <c>host:port</c> (and <c>[v6 address]:port</c>) only that one.
    /// </summary>
    public static bool AllowsEndpoint(string entry, string host, int port)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(host);
        string entryHost;
        int? entryPort = null;
        var close = entry.IndexOf(']', StringComparison.Ordinal);
        if (entry.StartsWith('[') && close > 0)
        {
            entryHost = entry[1..close];
            if (entry.Length > close + 1)
            {
                if (entry[close + 1] != ':' || !int.TryParse(entry.AsSpan(close + 2), out var v6Port))
                {
                    return false;
                }

                entryPort = v6Port;
            }
        }
        else if (entry.Count(c => c == ':') == 1)
        {
            var colon = entry.IndexOf(':', StringComparison.Ordinal);
            if (!int.TryParse(entry.AsSpan(colon + 1), out var hostPort))
            {
                return false;
            }

            entryHost = entry[..colon];
            entryPort = hostPort;
        }
        else
        {
            entryHost = entry; // a name, an IPv4 address, or a bare IPv6 address
        }

        return string.Equals(entryHost, host.Trim('[', ']'), StringComparison.OrdinalIgnoreCase) && (entryPort is null || entryPort == port);
    }
}
