using Conclave.Agents.Events;
using Conclave.Agents.Runs;
using Conclave.Server.Tests.Infrastructure;
using Conclave.Storage;
using Conclave.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Server.Tests.Storage.Contract;

/// <summary>The SQLite provider (a real database file in a fresh data folder, behind the real server) against the contracts.</summary>
internal sealed class SqliteStorage(ConclaveTestServer server) : IStorageUnderTest
{
    public IEventStore Events { get; } = server.Services.GetRequiredService<IEventStore>();

    public IRunStore Runs { get; } = server.Services.GetRequiredService<IRunStore>();

    public ISessionStore Sessions { get; } = server.Services.GetRequiredService<ISessionStore>();

    public IApiKeyStore Keys { get; } = server.Services.GetRequiredService<IApiKeyStore>();

    public ITenantItemStore<Conclave.Agents.Skills.Skill> Skills { get; } = server.Services.GetRequiredService<ITenantItemStore<Conclave.Agents.Skills.Skill>>();

    public ITenantItemStore<McpServerRegistration> McpServers { get; } = server.Services.GetRequiredService<ITenantItemStore<McpServerRegistration>>();

    public static async Task<IStorageUnderTest> StartAsync() => new SqliteStorage(await ConclaveTestServer.StartAsync());

    public Task<string> NewSessionAsync() => server.CreateSessionAsync();

    public IServiceCollection AddStorageOnSameDatabase(IServiceCollection services) => services.AddConclaveSqliteStorage(_ => server.DataDir, _ => 5000);

    public ValueTask DisposeAsync() => server.DisposeAsync();
}

public sealed class SqliteEventStoreContractTests : EventStoreContract
{
    protected override Task<IStorageUnderTest> StartAsync() => SqliteStorage.StartAsync();
}

public sealed class SqliteRunStoreContractTests : RunStoreContract
{
    protected override Task<IStorageUnderTest> StartAsync() => SqliteStorage.StartAsync();
}

public sealed class SqliteSessionStoreContractTests : SessionStoreContract
{
    protected override Task<IStorageUnderTest> StartAsync() => SqliteStorage.StartAsync();
}

public sealed class SqliteTenantItemStoreContractTests : TenantItemStoreContract
{
    protected override Task<IStorageUnderTest> StartAsync() => SqliteStorage.StartAsync();
}

public sealed class SqliteApiKeyStoreContractTests : ApiKeyStoreContract
{
    protected override Task<IStorageUnderTest> StartAsync() => SqliteStorage.StartAsync();
}

public sealed class SqliteKeyRingContractTests : KeyRingContract
{
    protected override Task<IStorageUnderTest> StartAsync() => SqliteStorage.StartAsync();
}
