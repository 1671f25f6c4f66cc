using Conclave.Server.Auth;
using Conclave.Server.Options;
using Conclave.Storage;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Conclave.Server.Startup;

/// <summary>
/// Once the server listens: logs where it listens and the full path of its data folder (a start from another folder
/// makes a new database), then makes sure an admin key exists. A start that fails before it can serve, such as on a
/// port already taken, makes no key that would then be lost.
/// </summary>
internal sealed partial class ServingAnnouncement(
    IServer server,
    IOptions<ConclaveOptions> conclave,
    IOptions<StorageOptions> storage,
    IApiKeyStore apiKeys,
    ApiKeyRegistry keys,
    TimeProvider time,
    ILogger<ServingAnnouncement> logger)
    : IHostedLifecycleService
{
    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        var urls = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        LogServing(logger, string.Join(", ", urls), conclave.Value.DataPath, storage.Value.Provider);
        await AdminKeyBootstrap.EnsureAdminKeyAsync(apiKeys, keys, time, Console.Out);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Conclave is listening on {Urls}; its data folder is {DataPath} (storage: {Storage})")]
    private static partial void LogServing(ILogger logger, string urls, string dataPath, StorageProvider storage);
}
