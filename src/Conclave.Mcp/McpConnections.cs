using System.Collections.Concurrent;
using Conclave.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.Mcp;

/// <summary>
/// The open connections, one per tenant and server. A connection made from a registration that has since changed is
/// closed and made again; connections unused for <see cref="McpOptions.IdleSeconds"/> are closed (a <c>stdio</c>
/// server's process stops), and all of them at shutdown.
/// </summary>
public sealed class McpConnections(McpTransports transports, IOptions<McpOptions> options, ILoggerFactory loggers, TimeProvider time)
    : BackgroundService
{
    private readonly ConcurrentDictionary<(string Tenant, string Server), McpConnection> _open = new();
    private readonly McpOptions _options = options.Value;

    /// <summary>How many connections are open now.</summary>
    public int Count => _open.Count;

    /// <summary>The tenant's connection to the server, made (not yet connected) when there is none for this registration.</summary>
    internal async Task<McpConnection> GetAsync(string tenantId, Stored<McpServerRegistration> server)
    {
        var key = (tenantId, server.Item.Name);
        while (true)
        {
            // A tool listed through this connection calls through whichever is open when it is called: a closed
            // connection is never used again, so none is left running outside this list.
            var connection = _open.GetOrAdd(key, _ => new McpConnection(tenantId, server, transports, _options, loggers, time, () => GetAsync(tenantId, server)));
            if (connection.Version == server.UpdatedAt)
            {
                return connection;
            }

            // Made from an older registration (or a newer one another caller read): the newest registration wins.
            if (connection.Version > server.UpdatedAt)
            {
                return connection;
            }

            if (_open.TryRemove(KeyValuePair.Create(key, connection)))
            {
                await connection.DisposeAsync();
            }
        }
    }

    /// <summary>Closes the tenant's connection to the server (every tenant's, for <see cref="Tenants.Admin"/>'s), after its registration changed or went.</summary>
    public async Task CloseAsync(string tenantId, string server)
    {
        foreach (var (key, connection) in _open)
        {
            if (key.Server == server && (key.Tenant == tenantId || tenantId == Tenants.Admin) && _open.TryRemove(KeyValuePair.Create(key, connection)))
            {
                await connection.DisposeAsync();
            }
        }
    }

    /// <summary>Closes the connections that went unused for the idle time, every so often.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_options.IdleSeconds == 0)
        {
            return;
        }

        var idle = TimeSpan.FromSeconds(_options.IdleSeconds);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Clamp(_options.IdleSeconds / 4.0, 1, 60)), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var cutoff = time.GetUtcNow() - idle;
                foreach (var (key, connection) in _open)
                {
                    if (connection.IsIdleSince(cutoff) && _open.TryRemove(KeyValuePair.Create(key, connection)))
                    {
                        await connection.DisposeAsync();
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: StopAsync closes what is open.
        }
    }

    /// <summary>Closes every connection: the processes of <c>stdio</c> servers stop with the host.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await Task.WhenAll(_open.Keys.Select(async key =>
        {
            if (_open.TryRemove(key, out var connection))
            {
                await connection.DisposeAsync();
            }
        }));
    }
}
