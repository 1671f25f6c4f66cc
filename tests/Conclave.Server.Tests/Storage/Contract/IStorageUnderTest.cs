using Conclave.Agents.Events;
using Conclave.Agents.Runs;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Server.Tests.Storage.Contract;

/// <summary>A storage provider under contract test: its stores, on a fresh database, and a way to make sessions in it.</summary>
public interface IStorageUnderTest : IAsyncDisposable
{
    IEventStore Events { get; }

    IRunStore Runs { get; }

    Conclave.Storage.ISessionStore Sessions { get; }

    Conclave.Storage.IApiKeyStore Keys { get; }

    Conclave.Storage.ITenantItemStore<Conclave.Agents.Skills.Skill> Skills { get; }

    Conclave.Storage.ITenantItemStore<Conclave.Storage.McpServerRegistration> McpServers { get; }

    /// <summary>Creates a session (of the admin tenant) and returns its id.</summary>
    Task<string> NewSessionAsync();

    /// <summary>Registers this provider's storage on the same (already migrated) database: another instance's services.</summary>
    IServiceCollection AddStorageOnSameDatabase(IServiceCollection services);
}
