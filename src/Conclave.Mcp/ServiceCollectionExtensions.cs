using Conclave.Agents.Tools;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Conclave.Mcp;

/// <summary>Registers Conclave as an MCP host.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Adds the MCP servers' tools to the runtime's (<see cref="IToolSource"/>). The host binds <see cref="McpOptions"/>,
    /// registers Data Protection with a key ring every instance shares, and an
    /// <see cref="Conclave.Storage.ITenantItemStore{T}"/> of <see cref="Conclave.Storage.McpServerRegistration"/>s.
    /// </summary>
    public static IServiceCollection AddConclaveMcp(this IServiceCollection services)
    {
        services.AddSingleton<McpSecretProtector>();
        services.AddSingleton<McpTransports>();
        services.AddSingleton<McpRegistrations>();
        services.AddSingleton<McpConnections>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<McpConnections>());
        services.AddSingleton<McpToolSource>();
        services.AddSingleton<IToolSource>(sp => sp.GetRequiredService<McpToolSource>());
        return services;
    }
}
