using Conclave.Agents.Events;
using Conclave.Agents.Runs;
using Conclave.Agents.Tools;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Conclave.Agents;

/// <summary>Registers the agent runtime.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Adds the runtime: runs, tools, the event writer and the in-process event hub. The host registers an
    /// <see cref="Microsoft.Extensions.AI.IChatClient"/>, an <see cref="IEventStore"/>, an <see cref="IRunStore"/>,
    /// an <see cref="Skills.ISkillCatalog"/>, an <see cref="Teams.IExpertCatalog"/>, and binds the options.
    /// </summary>
    public static IServiceCollection AddConclaveAgents(this IServiceCollection services)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<ISessionEventHub, InProcessSessionEventHub>();
        services.AddSingleton<EventJournal>();
        services.AddSingleton<EventWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<EventWriter>());
        services.AddSingleton<SessionEventFeed>();
        services.AddSingleton<FileTools>();
        services.AddSingleton<HttpGetTool>();
        services.AddSingleton<ToolCatalog>();
        services.AddSingleton<RunCoordinator>();
        services.AddSingleton<IRunControl>(sp => sp.GetRequiredService<RunCoordinator>());
        services.AddSingleton<RunRecovery>();
        services.AddSingleton<InstanceIdentity>();
        services.AddHostedService<RunShutdown>();
        services.AddHttpClient(HttpGetTool.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(sp => HttpGetTool.CreateHandler(sp.GetRequiredService<IOptions<ToolOptions>>().Value.HttpGet));
        return services;
    }
}
