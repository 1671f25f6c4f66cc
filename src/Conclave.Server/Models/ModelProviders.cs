using System.ClientModel;
using System.ClientModel.Primitives;
using Anthropic;
using Conclave.Agents.Models;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using OllamaSharp;
using OpenAI;
using Polly;

namespace Conclave.Server.Models;

/// <summary>
/// The session model as one <see cref="IChatClient"/>, whichever provider serves it. Provider clients use
/// an HttpClient whose retry policy (429 with Retry-After, 5xx, timeouts) acts before an answer begins;
/// a stream that breaks later is not retried: the run ends with <c>llm_error</c>, which names the provider, its endpoint and
/// what happened (<see cref="ModelErrors"/>).
/// </summary>
internal static class ModelProviders
{
    public const string HttpClientName = "conclave-llm";

    public static IServiceCollection AddModel(this IServiceCollection services)
    {
        services.AddTransient<AbortOnCancel.Handler>();
        services.AddTransient<ModelErrors.Recorder>();
        var http = services.AddHttpClient(HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                ConnectTimeout = TimeSpan.FromSeconds(30),
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                // A response given up on (a cancelled run) closes its connection at once instead of being drained.
                MaxResponseDrainSize = 0,
                ResponseDrainTimeout = TimeSpan.Zero,
            })
            .AddHttpMessageHandler<AbortOnCancel.Handler>();
        http.AddResilienceHandler("llm", (pipeline, context) =>
        {
            var options = context.ServiceProvider.GetRequiredService<IOptions<LlmOptions>>().Value;
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(1, options.MaxRetries),
                ShouldHandle = args => options.MaxRetries == 0
                    ? PredicateResult.False()
                    : HttpClientResiliencePredicates.IsTransient(args.Outcome) ? PredicateResult.True() : PredicateResult.False(),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(options.RetryBaseDelayMs),
                ShouldRetryAfterHeader = true,
            });
                pipeline.AddTimeout(TimeSpan.FromSeconds(options.AttemptTimeoutSeconds));
            });
        // Inside the retries: it sees every attempt.
        http.AddHttpMessageHandler<ModelErrors.Recorder>();
        services.AddHttpClient(ModelReadiness.HttpClientName, client => client.Timeout = ModelReadiness.ProbeTimeout);
        services.AddSingleton<ModelReadiness>();

        services.AddChatClient(Create)
            .UseLogging()
            .Use((inner, sp) =>
            {
                var options = sp.GetRequiredService<IOptions<LlmOptions>>().Value;
                return new ModelDefaults(inner, options.Temperature, options.MaxOutputTokens);
            });
        return services;
    }

    private static IChatClient Create(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<LlmOptions>>().Value;
        if (options.IsBuiltin)
        {
            return new BuiltinChatClient(services.GetRequiredService<IOptions<BuiltinModelOptions>>(), services.GetRequiredService<TimeProvider>());
        }

        var http = services.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName);
        var model = options.Model!;
        IChatClient provider = options.Provider.ToLowerInvariant() switch
        {
            LlmOptions.OpenAI => new AbortOnCancel.ChatClient(new OpenAI.Chat.ChatClient(
                model,
                new ApiKeyCredential(string.IsNullOrEmpty(options.ApiKey) ? "unused" : options.ApiKey),
                new OpenAIClientOptions
                {
                    Endpoint = options.Endpoint,
                    Transport = new HttpClientPipelineTransport(http),
                    RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
                    NetworkTimeout = Timeout.InfiniteTimeSpan,
                }).AsIChatClient()),
            LlmOptions.Ollama => new AbortOnCancel.ChatClient(
                new OllamaApiClient(WithBase(http, options.Endpoint ?? new Uri("http://localhost:11434")), model)),
            LlmOptions.Anthropic => new AbortOnCancel.ChatClient(new AnthropicClient
            {
                ApiKey = options.ApiKey!,
                BaseUrl = options.Endpoint?.ToString().TrimEnd('/') ?? "https://api.anthropic.com",
                HttpClient = http,
                MaxRetries = 0,
            }.AsIChatClient(model, options.MaxOutputTokens ?? 4096)),
            _ => throw new InvalidOperationException($"Conclave:Llm:Provider '{options.Provider}' is not known."),
        };
        return new ModelErrors.ChatClient(provider, options);
    }

    private static HttpClient WithBase(HttpClient http, Uri endpoint)
    {
        http.BaseAddress = endpoint;
        return http;
    }
}
