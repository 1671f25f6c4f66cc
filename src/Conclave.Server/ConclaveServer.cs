using System.Text.Json;
using Conclave.Agents;
using Conclave.Agents.Events;
using Conclave.Agents.Models;
using Conclave.Agents.Runs;
using Conclave.Agents.Skills;
using Conclave.Agents.Teams;
using Conclave.Agents.Tools;
using Conclave.Server.Auth;
using Conclave.Server.Chat;
using Conclave.Server.Cluster;
using Conclave.Server.Experts;
using Conclave.Server.Health;
using Conclave.Server.Json;
using Conclave.Server.Logging;
using Conclave.Server.Models;
using Conclave.Server.OpenApi;
using Conclave.Server.Options;
using Conclave.Server.Runs;
using Conclave.Server.Sessions;
using Conclave.Server.Skills;
using Conclave.Server.Startup;
using Conclave.Cluster.Redis;
using Conclave.Mcp;
using Conclave.Server.Mcp;
using Conclave.Storage.EntityFramework;
using Conclave.Storage.Postgres;
using Conclave.Storage.Sqlite;
using Conclave.Server.Tools;
using Conclave.Server.WebClient;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Conclave.Server;

/// <summary>How the server is put together: each feature adds its services and maps its endpoints.</summary>
public static class ConclaveServer
{
    private const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";

    private const string RunSetupSetting = "Conclave:Agent:" + nameof(AgentOptions.MaxConcurrentRunSetup);

    /// <summary>
    /// How many runs read their start at once on PostgreSQL by default: four per processor, at least 16, at most the
    /// setting's own bound (1,024).
    /// </summary>
    internal static int ServerDatabaseRunSetups(int processors) => Math.Clamp(4 * processors, 16, 1_024);

    /// <summary>Adds every service of the server to the builder.</summary>
    public static WebApplicationBuilder AddConclaveServer(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Logging.AddFilter(RequestLogging.HostingDiagnosticsCategory, LogLevel.None);

        // The host logs a failed start with its whole stack trace, for a port already taken too; Program prints why in
        // a line instead. What the host logs as critical (a background service that failed and stops the server) stays.
        builder.Logging.AddFilter(HostCategory, LogLevel.Critical);
        builder.Services.AddConclaveOptions();
        SettingsCheck.ThrowIfInvalid(builder.Configuration, builder.Services.SettingsSections());
        builder.Services
            .AddStorage(builder.Configuration)
            .AddModel()
            .AddConclaveAgents()
            .AddMcpHost(builder.Configuration)
            .AddCluster(builder.Configuration)
            .AddApiKeyAuth()
            .AddChatSockets()
            .AddHttpApi(builder.Configuration);
        return builder;
    }

    /// <summary>Adds the middleware and maps every endpoint.</summary>
    public static WebApplication UseConclaveServer(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseRequestLogging();
        app.UseExceptionHandler();
        app.UseApiStatusPages();
        app.UseWebClient();
        app.UseApiReference();
        app.UseCors();
        FrameBatchingUpgrade.UseFrameBatching(app);
        app.UseWebSockets();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapHealthApi();
        app.MapSessionsApi();
        app.MapSkillsApi();
        app.MapExpertsApi();
        app.MapToolsApi();
        app.MapMcpServersApi();
        app.MapApiKeysApi();
        app.MapCallerApi();
        app.MapRunsApi();
        app.MapChatSocket();
        app.MapOpenApi();
        return app;
    }

    private static IServiceCollection AddConclaveOptions(this IServiceCollection services)
    {
        services.AddValidatedOptions<ConclaveOptions>(ConclaveOptions.Section);
        services.AddValidatedOptions<CorsOptions>(CorsOptions.Section);
        services.AddValidatedOptions<StorageOptions>(StorageOptions.Section);
        services.AddValidatedOptions<ClusterOptions>(ClusterOptions.Section).Validate<IOptions<StorageOptions>>(
            (cluster, storage) => string.IsNullOrWhiteSpace(cluster.Redis) || storage.Value.Provider == StorageProvider.Postgres,
            "Conclave:Cluster:Redis needs Conclave:Storage:Provider Postgres: the instances share one PostgreSQL database.")
            .Validate(
                cluster => cluster.OwnerTimeoutSeconds >= 3 * cluster.HeartbeatSeconds,
                "Conclave:Cluster:OwnerTimeoutSeconds must be at least three Conclave:Cluster:HeartbeatSeconds, or a live instance's runs could be taken over.");
        services.AddValidatedOptions<AuthOptions>(AuthOptions.Section);
        services.AddValidatedOptions<ChatSocketOptions>(ChatSocketOptions.Section);
        services.AddValidatedOptions<EventWriterOptions>("Conclave:Events", nameof(EventWriterOptions.JournalPath), nameof(EventWriterOptions.PublishOnceStored))
            .Configure<IOptions<ConclaveOptions>>((events, conclave) => events.JournalPath = Path.Combine(conclave.Value.DataPath, "journal"));
        services.AddValidatedOptions<ToolOptions>("Conclave:Tools");
        services.AddValidatedOptions<McpOptions>("Conclave:Mcp");
        services.AddValidatedOptions<KeyRingOptions>(KeyRingOptions.Section);
        services.AddValidatedOptions<ConfirmationOptions>("Conclave:Confirmation");
        services.AddValidatedOptions<AskHumanOptions>("Conclave:AskHuman");
        services.AddValidatedOptions<ShutdownOptions>("Conclave:Shutdown");

        // The host's own deadline for stopping (30 s unless the operator set another) leaves room for the drain and for
        // storing what it produced.
        services.AddOptions<HostOptions>().PostConfigure<IOptions<ShutdownOptions>>((host, shutdown) =>
            host.ShutdownTimeout = TimeSpan.FromSeconds(Math.Max(host.ShutdownTimeout.TotalSeconds, shutdown.Value.DrainSeconds + 15)));
        services.AddValidatedOptions<TeamOptions>("Conclave:Teams");
        services.AddValidatedOptions<BuiltinModelOptions>("Conclave:Llm:Builtin");
        services.AddValidatedOptions<ContextOptions>("Conclave:Llm");
        services.AddValidatedOptions<LlmOptions>(LlmOptions.Section);
        services.AddSingleton<IValidateOptions<LlmOptions>, LlmOptionsValidator>();
        services.AddValidatedOptions<AgentOptions>("Conclave:Agent", nameof(AgentOptions.WorkspacesPath))
            .Configure<IOptions<ConclaveOptions>>((agent, conclave) => agent.WorkspacesPath = Path.Combine(conclave.Value.DataPath, "workspaces"));
        return services;
    }

    private static IServiceCollection AddStorage(this IServiceCollection services, IConfiguration configuration)
    {
        // The provider decides which services exist, so it is read here; SettingsCheck has already refused a value that is none.
        var storage = configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions();
        if (storage is { Provider: StorageProvider.Postgres, ConnectionString: { Length: > 0 } connectionString })
        {
            services.AddConclavePostgresStorage(connectionString);

            // A server database's reads wait on the network more than on this process's processors, so more runs read
            // their start at once than the one-machine default (the processor count), unless the setting says how many.
            if (configuration[RunSetupSetting] is null)
            {
                services.PostConfigure<AgentOptions>(agent => agent.MaxConcurrentRunSetup = ServerDatabaseRunSetups(Environment.ProcessorCount));
            }
        }
        else
        {
            services.AddConclaveSqliteStorage(
                sp => sp.GetRequiredService<IOptions<ConclaveOptions>>().Value.DataPath,
                sp => sp.GetRequiredService<IOptions<StorageOptions>>().Value.BusyTimeoutMs);
        }

        services.AddSingleton<DataDirectoryLock>();
        services.AddHostedService<DatabaseInitializer>();
        services.AddHostedService<ServingAnnouncement>();
        return services;
    }

    /// <summary>
    /// MCP servers' tools for the runtime, and their registrations' secrets encrypted with a Data Protection key ring kept
    /// in the database, so that every instance reads what another stored; with <c>Conclave:KeyRing:CertificatePath</c>,
    /// the ring's keys are encrypted to that certificate before they are stored, and the key in use is one of those.
    /// </summary>
    private static IServiceCollection AddMcpHost(this IServiceCollection services, IConfiguration configuration)
    {
        var keyRing = services.AddDataProtection().SetApplicationName("Conclave").PersistKeysToConclaveStorage();
        var keyRingOptions = configuration.GetSection(KeyRingOptions.Section).Get<KeyRingOptions>() ?? new KeyRingOptions();
        if (keyRingOptions.LoadCertificate() is { } certificate)
        {
            keyRing.ProtectKeysWithCertificate(certificate).UnprotectKeysWithAnyCertificate(certificate);
            services.AddHostedService<KeyRingEncryption>();
        }

        services.AddConclaveMcp();
        services.AddSingleton<McpServerChanges>();
        return services;
    }

    /// <summary>With <c>Conclave:Cluster:Redis</c>, this process is one of several instances (after the runtime, whose one-process parts it replaces).</summary>
    private static IServiceCollection AddCluster(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<IInstanceNoticeHandler, InstanceNoticeHandler>();
        services.AddSingleton<IInstanceNotices, SingleInstanceNotices>();
        services.AddSingleton<ISingleUseValues, InProcessSingleUseValues>();
        var cluster = configuration.GetSection(ClusterOptions.Section).Get<ClusterOptions>() ?? new ClusterOptions();
        if (!string.IsNullOrWhiteSpace(cluster.Redis))
        {
            services.AddConclaveRedisCluster(new RedisClusterOptions(
                cluster.Redis,
                cluster.ChannelPrefix,
                TimeSpan.FromMilliseconds(cluster.ControlTimeoutMs),
                TimeSpan.FromSeconds(cluster.HeartbeatSeconds),
                TimeSpan.FromSeconds(cluster.OwnerTimeoutSeconds)));
        }

        return services;
    }

    private static IServiceCollection AddApiKeyAuth(this IServiceCollection services)
    {
        services.AddSingleton<ApiKeyRegistry>();
        services.AddSingleton<ChatTickets>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(ApiKeysApi.AdminPolicy, policy => policy.RequireRole(Caller.AdminRole));
        return services;
    }

    private static IServiceCollection AddChatSockets(this IServiceCollection services)
    {
        services.AddSingleton<ChatConnectionRegistry>();
        services.AddHostedService<ChatShutdown>();
        return services;
    }

    private static IServiceCollection AddHttpApi(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<JsonOptions>(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default);
        });
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = Problems.AddDetail);
        services.AddExceptionHandler<BadRequestHandler>();
        var origins = configuration.GetSection(CorsOptions.Section).Get<CorsOptions>()?.Origins ?? [];
        services.AddCors(cors => cors.AddDefaultPolicy(policy => policy
            .WithOrigins([.. origins])
            .WithHeaders(ApiKeyAuthenticationHandler.HeaderName, "Authorization", "Content-Type")
            .WithMethods("GET", "POST", "PUT", "PATCH", "DELETE")
            .WithExposedHeaders("X-Next-Cursor", "Location")));
        services.AddOpenApi(o => o
            .AddDocumentTransformer<ApiKeySecurityTransformer>()
            .AddSchemaTransformer<ApiSchemaTransformer>()
            .AddOperationTransformer<ProblemResponsesTransformer>());
        return services;
    }
}
