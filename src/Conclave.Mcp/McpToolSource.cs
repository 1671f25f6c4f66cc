using Conclave.Agents.Tools;
using Microsoft.Extensions.Logging;

namespace Conclave.Mcp;

/// <summary>
/// The tools of the MCP servers a tenant's runs may use (<see cref="McpRegistrations"/>), as <c>server.tool</c>. A
/// server that cannot be reached is left out of the list (and logged), so that a run goes on with the tools it has.
/// </summary>
public sealed partial class McpToolSource(McpRegistrations registrations, McpConnections connections, ILogger<McpToolSource> logger) : IToolSource
{
    /// <inheritdoc />
    public async Task<IReadOnlyList<AgentTool>> ListAsync(string tenantId, CancellationToken cancellationToken = default)
    {
        var servers = await registrations.ForTenantAsync(tenantId, cancellationToken);
        if (servers.Count == 0)
        {
            return [];
        }

        var lists = await Task.WhenAll(servers.Values.OrderBy(s => s.Item.Name, StringComparer.Ordinal).Select(async server =>
        {
            var connection = await connections.GetAsync(tenantId, server);
            try
            {
                return await connection.ToolsAsync(cancellationToken);
            }
            catch (McpUnavailableException ex)
            {
                LogLeftOut(tenantId, server.Item.Name, ex.Message);
                return [];
            }
        }));
        return [.. lists.SelectMany(l => l)];
    }

    /// <inheritdoc />
    public async Task<bool> MayProvideAsync(string tenantId, string name, CancellationToken cancellationToken = default)
    {
        return SourcedToolName.ServerOf(name) is { } server
            && (await registrations.ForTenantAsync(tenantId, cancellationToken)).ContainsKey(server);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "The tools of MCP server {Server} are left out of a run of tenant {TenantId}: {Reason}")]
    private partial void LogLeftOut(string tenantId, string server, string reason);
}
