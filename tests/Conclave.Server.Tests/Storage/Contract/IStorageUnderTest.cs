using Conclave.Agents.Events;
using Conclave.Agents.Runs;

namespace Conclave.Server.Tests.Storage.Contract;

/// <summary>A storage provider under contract test: its stores, on a fresh database, and a way to make sessions in it.</summary>
public interface IStorageUnderTest : IAsyncDisposable
{
    IEventStore Events { get; }

    IRunStore Runs { get; }

    Conclave.Storage.ISessionStore Sessions { get; }

    Conclave.Storage.IApiKeyStore Keys { get; }

    Conclave.Storage.ITenantItemStore<Conclave.Agents.Skills.Skill> Skills { get; }

    /// <summary>Creates a session (of the admin tenant) and returns its id.</summary>
    Task<string> NewSessionAsync();
}
