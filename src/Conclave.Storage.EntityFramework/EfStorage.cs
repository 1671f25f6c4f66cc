using Conclave.Agents.Events;
using Conclave.Agents.Runs;
using Conclave.Agents.Skills;
using Conclave.Agents.Teams;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Storage.EntityFramework;

/// <summary>
/// What every relational provider shares: one EF Core model (<see cref="ConclaveDbContext"/>) and the stores on it.
/// A provider adds its database's context options, its migrations (and what it sets once they are applied), its
/// event store (the hot path, written its database's fastest way) and its write gate.
/// </summary>
internal static class EfStorage
{
    /// <summary>Registers the stores every provider shares, and the given event store, schema and write gate.</summary>
    public static IServiceCollection AddEfStores<TEventStore, TSchema>(this IServiceCollection services, WriteGate writes)
        where TEventStore : EfEventStore
        where TSchema : EfSchema
    {
        services.AddSingleton(writes);
        services.AddSingleton<IStorageSchema, TSchema>();
        services.AddSingleton<IEventStore, TEventStore>();
        services.AddSingleton<RunRecordWriter>();
        services.AddSingleton<IRunStore, EfRunStore>();
        services.AddSingleton<ISkillCatalog, EfSkillCatalog>();
        services.AddSingleton<IExpertCatalog, EfExpertCatalog>();
        services.AddSingleton<ISessionStore, EfSessionStore>();
        services.AddSingleton<IApiKeyStore, EfApiKeyStore>();
        services.AddSingleton<IStorageProbe, EfStorageProbe>();
        services.AddSingleton<ITenantItemStore<Skill>, EfSkillStore>();
        services.AddSingleton<ITenantItemStore<Expert>, EfExpertStore>();
        services.AddSingleton<ITenantItemStore<McpServerRegistration>, EfMcpServerStore>();
        return services;
    }
}
