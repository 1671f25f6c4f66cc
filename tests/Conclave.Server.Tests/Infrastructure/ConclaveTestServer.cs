using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conclave.Server.Tests.Infrastructure;

/// <summary>
/// The real server on real Kestrel, on a free loopback port, with a SQLite file in a temporary data folder.
/// Only the model can be swapped (for a scripted <see cref="IChatClient"/>).
/// </summary>
internal sealed class ConclaveTestServer : IAsyncDisposable
{
    private static readonly SemaphoreSlim StartGate = new(1, 1);

    public const string AdminKey = "test-admin-key-0123456789";

    private readonly WebApplication _app;
    private readonly bool _ownsDataDir;

    private ConclaveTestServer(WebApplication app, string dataDir, bool ownsDataDir, Uri baseUri, CapturingLoggerProvider logs)
    {
        _app = app;
        DataDir = dataDir;
        _ownsDataDir = ownsDataDir;
        BaseUri = baseUri;
        Logs = logs;
        Http = CreateClient(AdminKey);
    }

    public string DataDir { get; }

    public Uri BaseUri { get; }

    public HttpClient Http { get; }

    public CapturingLoggerProvider Logs { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<ConclaveTestServer> StartAsync(
        IDictionary<string, string?>? settings = null,
        IChatClient? model = null,
        string? dataDir = null,
        Action<IServiceCollection>? services = null,
        string? webRoot = null)
    {
        var ownsDataDir = dataDir is null;
        dataDir ??= Directory.CreateTempSubdirectory("conclave-test-").FullName;
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = "Testing",
            ContentRootPath = AppContext.BaseDirectory,
            WebRootPath = webRoot,
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Conclave:DataDir"] = dataDir,
            ["Conclave:Auth:AdminKey"] = AdminKey,
            ["Conclave:Llm:Builtin:TokenDelayMs"] = "1",

            // A test that stops its server mid-run does not wait for a drain, unless it asks for one.
            ["Conclave:Shutdown:DrainSeconds"] = "0",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        var logs = new CapturingLoggerProvider();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        builder.AddConclaveServer();
        if (model is not null)
        {
            builder.Services.AddChatClient(model);
        }

        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.UseConclaveServer();

        // One start at a time in this test process: EF Core's migrator, run by hosts starting at once in one process
        // (never the case in production, one host per process), once failed with "The model must be finalized".
        await StartGate.WaitAsync();
        try
        {
            await app.StartAsync();
        }
        finally
        {
            StartGate.Release();
        }

        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new ConclaveTestServer(app, dataDir, ownsDataDir, new Uri(address), logs);
    }

    /// <summary>Starts another server on the same data folder, as after a restart.</summary>
    public static Task<ConclaveTestServer> RestartOnAsync(string dataDir, IDictionary<string, string?>? settings = null) =>
        StartAsync(settings, dataDir: dataDir);

    public HttpClient CreateClient(string? key)
    {
        var client = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(30) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Add("X-API-Key", key);
        }

        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return client;
    }

    public async Task<string> CreateSessionAsync(HttpClient? client = null)
    {
        using var response = await (client ?? Http).PostAsJsonAsync("/api/v1/sessions", new { title = "test" });
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("id").GetString()!;
    }

    /// <summary>Creates a tenant key with the admin key.</summary>
    public async Task<(string Id, string Key)> CreateTenantKeyAsync(string name = "tenant")
    {
        using var response = await Http.PostAsJsonAsync("/api/v1/api-keys", new { name });
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (body.GetProperty("id").GetString()!, body.GetProperty("key").GetString()!);
    }

    public Uri SocketUri(string sessionId, string? key = AdminKey, long? lastEventId = null, string? ticket = null)
    {
        var query = new List<string>();
        if (key is not null)
        {
            query.Add($"api_key={Uri.EscapeDataString(key)}");
        }

        if (ticket is not null)
        {
            query.Add($"ticket={Uri.EscapeDataString(ticket)}");
        }

        if (lastEventId is not null)
        {
            query.Add($"last_event_id={lastEventId}");
        }

        return new Uri($"ws://{BaseUri.Authority}/api/v1/chat/ws/{sessionId}?{string.Join('&', query)}");
    }

    /// <summary>Opens a chat socket and reads its <c>connected</c> frame.</summary>
    /// <param name="receiveBufferBytes">When set, the client's kernel receive buffer, to make a client that stops reading fill up fast.</param>
    public async Task<TestSocket> ConnectAsync(
        string sessionId, string key = AdminKey, long? lastEventId = null, string? origin = null, int? receiveBufferBytes = null)
    {
        var socket = new ClientWebSocket();
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        if (receiveBufferBytes is { } size)
        {
            using var invoker = new HttpMessageInvoker(new SocketsHttpHandler
            {
                ConnectCallback = async (context, cancellationToken) =>
                {
                    var raw = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp)
                    {
                        ReceiveBufferSize = size,
                    };
                    await raw.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new System.Net.Sockets.NetworkStream(raw, ownsSocket: true);
                },
            });
            await socket.ConnectAsync(SocketUri(sessionId, key, lastEventId), invoker, CancellationToken.None);
        }
        else
        {
            await socket.ConnectAsync(SocketUri(sessionId, key, lastEventId), CancellationToken.None);
        }

        var test = new TestSocket(socket);
        test.Connected = await test.ReceiveAsync();
        Assert.Equal("connected", test.Connected.Type());
        return test;
    }

    /// <summary>Tries an upgrade and returns the HTTP status it was refused with (101 when it was accepted).</summary>
    public async Task<int> UpgradeStatusAsync(string sessionId, string? key = AdminKey, string? origin = null, string? ticket = null)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        try
        {
            await socket.ConnectAsync(SocketUri(sessionId, key, ticket: ticket), CancellationToken.None);
            return (int)socket.HttpStatusCode;
        }
        catch (WebSocketException)
        {
            return (int)socket.HttpStatusCode;
        }
    }

    public async Task StopAsync() => await _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_ownsDataDir)
        {
            TestFiles.DeleteDirectory(DataDir);
        }
    }
}
