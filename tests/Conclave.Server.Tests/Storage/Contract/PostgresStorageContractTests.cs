using Conclave.Agents.Events;
using Conclave.Agents.Runs;
using Conclave.Server.Tests.Infrastructure;
using Conclave.Storage;
using Conclave.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Server.Tests.Storage.Contract;

/// <summary>The PostgreSQL provider (a fresh database on a real PostgreSQL server, behind the real server) against the contracts.</summary>
internal sealed class PostgresStorage(ConclaveTestServer server, PostgresDatabase database) : IStorageUnderTest
{
    public IEventStore Events { get; } = server.Services.GetRequiredService<IEventStore>();

    public IRunStore Runs { get; } = server.Services.GetRequiredService<IRunStore>();

    public ISessionStore Sessions { get; } = server.Services.GetRequiredService<ISessionStore>();

    public IApiKeyStore Keys { get; } = server.Services.GetRequiredService<IApiKeyStore>();

    public ITenantItemStore<Conclave.Agents.Skills.Skill> Skills { get; } = server.Services.GetRequiredService<ITenantItemStore<Conclave.Agents.Skills.Skill>>();

    public ITenantItemStore<McpServerRegistration> McpServers { get; } = server.Services.GetRequiredService<ITenantItemStore<McpServerRegistration>>();

    public static async Task<IStorageUnderTest> StartAsync()
    {
        var database = await PostgresDatabase.CreateAsync();
        return new PostgresStorage(await ConclaveTestServer.StartAsync(database.Settings), database);
    }

    public Task<string> NewSessionAsync() => server.CreateSessionAsync();

    public IServiceCollection AddStorageOnSameDatabase(IServiceCollection services) => services.AddConclavePostgresStorage(database.ConnectionString);

    public async ValueTask DisposeAsync()
    {
        await server.DisposeAsync();
        await database.DisposeAsync();
    }
}

[Trait("Category", "Postgres")]
public sealed class PostgresEventStoreContractTests : EventStoreContract
{
    protected override Task<IStorageUnderTest> StartAsync() => PostgresStorage.StartAsync();
}

[Trait("Category", "Postgres")]
public sealed class PostgresRunStoreContractTests : RunStoreContract
{
    protected override Task<IStorageUnderTest> StartAsync() => PostgresStorage.StartAsync();
}

[Trait("Category", "Postgres")]
public sealed class PostgresSessionStoreContractTests : SessionStoreContract
{
    protected override Task<IStorageUnderTest> StartAsync() => PostgresStorage.StartAsync();
}

[Trait("Category", "Postgres")]
public sealed class PostgresTenantItemStoreContractTests : TenantItemStoreContract
{
    protected override Task<IStorageUnderTest> StartAsync() => PostgresStorage.StartAsync();
}

[Trait("Category", "Postgres")]
public sealed class PostgresApiKeyStoreContractTests : ApiKeyStoreContract
{
    protected override Task<IStorageUnderTest> StartAsync() => PostgresStorage.StartAsync();
}

[Trait("Category", "Postgres")]
public sealed class PostgresKeyRingContractTests : KeyRingContract
{
    protected override Task<IStorageUnderTest> StartAsync() => PostgresStorage.StartAsync();
}
