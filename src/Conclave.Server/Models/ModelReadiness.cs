using System.Net.Http.Headers;
using Microsoft.Extensions.Options;

namespace Conclave.Server.Models;

/// <summary>
/// Whether the model endpoint answers, for <c>/readyz</c>. The probe is one GET of the provider's cheapest read (the
/// models list of OpenAI-compatible servers and Anthropic, Ollama's version), sent only to the configured endpoint, with
/// the key where the provider needs one: unlike a bare TCP connect it shows a server that accepts connections but does not
/// answer, and a key the provider refuses. Any other answer (a 404 from a server without a models list, say) counts as
/// ready. The result is kept for <see cref="LlmOptions.ReadinessCacheSeconds"/>, and concurrent checks share one probe,
/// so <c>/readyz</c> stays cheap. The builtin model is always ready.
/// </summary>
internal sealed class ModelReadiness(IOptions<LlmOptions> options, IHttpClientFactory clients)
{
    public const string HttpClientName = "conclave-llm-probe";

    /// <summary>How long the probe waits for the endpoint's answer.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);

    private readonly Lock _lock = new();
    private Task<string?>? _probe;
    private long _probedAt;

    /// <summary>Null when the model can be used, else why not: the provider and its endpoint, never the key.</summary>
    public Task<string?> CheckAsync()
    {
        var llm = options.Value;
        if (llm.IsBuiltin)
        {
            return Task.FromResult<string?>(null);
        }

        lock (_lock)
        {
            if (_probe is null || (_probe.IsCompleted && TimeProvider.System.GetElapsedTime(_probedAt) >= TimeSpan.FromSeconds(llm.ReadinessCacheSeconds)))
            {
                _probedAt = TimeProvider.System.GetTimestamp();
                _probe = ProbeAsync(llm);
            }

            return _probe;
        }
    }

    private async Task<string?> ProbeAsync(LlmOptions llm)
    {
        var endpoint = llm.EffectiveEndpoint!;
        var root = endpoint.AbsoluteUri.EndsWith('/') ? endpoint : new Uri(endpoint.AbsoluteUri + "/");
        var provider = llm.Provider.ToLowerInvariant();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(root, provider switch
        {
            LlmOptions.Ollama => "api/version",
            LlmOptions.Anthropic => "v1/models",
            _ => "models",
        }));
        if (!string.IsNullOrEmpty(llm.ApiKey))
        {
            if (provider == LlmOptions.Anthropic)
            {
                request.Headers.Add("x-api-key", llm.ApiKey);
                request.Headers.Add("anthropic-version", "2023-06-01");
            }
            else
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", llm.ApiKey);
            }
        }

        try
        {
            using var response = await clients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var status = (int)response.StatusCode;
            return status switch
            {
                401 or 403 => $"{llm.Describe()} refuses the API key ({status} {response.ReasonPhrase}).",
                >= 500 => $"{llm.Describe()} answered {status} {response.ReasonPhrase}.",
                _ => null,
            };
        }
        catch (HttpRequestException ex)
        {
            return llm.WithoutKey($"{llm.Describe()} cannot be reached: {ex.Message}");
        }
        catch (TaskCanceledException)
        {
            return $"{llm.Describe()} did not answer within {ProbeTimeout.TotalSeconds:0} s.";
        }
    }
}
