using Microsoft.Extensions.Options;

namespace Conclave.Server.Models;

/// <summary>Model settings (<c>Conclave:Llm</c>).</summary>
internal sealed class LlmOptions
{
    public const string Section = "Conclave:Llm";
    public const string Builtin = "builtin";
    public const string OpenAI = "openai";
    public const string Ollama = "ollama";
    public const string Anthropic = "anthropic";

    /// <summary><c>builtin</c>, <c>openai</c> (any OpenAI-compatible endpoint), <c>ollama</c> or <c>anthropic</c>.</summary>
    public string Provider { get; set; } = Builtin;

    /// <summary>The model name, e.g. <c>gpt-4o-mini</c>, <c>llama3.2</c>, <c>claude-sonnet-4-5</c>.</summary>
    public string? Model { get; set; }

    /// <summary>The provider's base URL, absolute http or https; each provider has a default (OpenAI's API, <c>http://localhost:11434</c>, Anthropic's API).</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The provider's API key (required for Anthropic, and for OpenAI's own API).</summary>
    public string? ApiKey { get; set; }

    /// <summary>The sampling temperature, when set.</summary>
    public float? Temperature { get; set; }

    /// <summary>The most tokens one answer may have.</summary>
    public int? MaxOutputTokens { get; set; }

    /// <summary>Retries of a request that failed before its answer began (429, 5xx, timeouts).</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>The first retry's delay; it doubles (with jitter) after that, unless the provider sends Retry-After.</summary>
    public int RetryBaseDelayMs { get; set; } = 1_000;

    /// <summary>How long one attempt may wait for the provider's answer to begin.</summary>
    public int AttemptTimeoutSeconds { get; set; } = 120;

    /// <summary>How long <c>/readyz</c> keeps the model endpoint's last probe before it probes again; 0 probes every time.</summary>
    public int ReadinessCacheSeconds { get; set; } = 5;

    public bool IsBuiltin => string.Equals(Provider, Builtin, StringComparison.OrdinalIgnoreCase);

    /// <summary>The endpoint the provider is reached at: <see cref="Endpoint"/>, or the provider's default; null for builtin.</summary>
    public Uri? EffectiveEndpoint => Endpoint ?? Provider.ToLowerInvariant() switch
    {
        OpenAI => new Uri("https://api.openai.com/v1/"),
        Ollama => new Uri("http://localhost:11434/"),
        Anthropic => new Uri("https://api.anthropic.com/"),
        _ => null,
    };

    /// <summary>The provider and its endpoint as errors name them, e.g. <c>ollama at http://localhost:11434/</c>: never the user info or query an endpoint may carry.</summary>
    public string Describe() => EffectiveEndpoint is { } endpoint
        ? $"{Provider.ToLowerInvariant()} at {endpoint.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped)}"
        : Provider.ToLowerInvariant();

    /// <summary>The text with the API key, should it appear, replaced: provider error messages may quote it.</summary>
    public string WithoutKey(string text) =>
        string.IsNullOrEmpty(ApiKey) ? text : text.Replace(ApiKey, "***", StringComparison.Ordinal);
}

/// <summary>Stops the start with a message naming the setting when the model settings cannot work.</summary>
internal sealed class LlmOptionsValidator : IValidateOptions<LlmOptions>
{
    public ValidateOptionsResult Validate(string? name, LlmOptions options)
    {
        var provider = options.Provider?.ToLowerInvariant();
        var failures = new List<string>();
        if (provider is not (LlmOptions.Builtin or LlmOptions.OpenAI or LlmOptions.Ollama or LlmOptions.Anthropic))
        {
            failures.Add($"Conclave:Llm:Provider '{options.Provider}' is not known; use builtin, openai, ollama or anthropic.");
        }
        else if (provider != LlmOptions.Builtin && string.IsNullOrWhiteSpace(options.Model))
        {
            failures.Add($"Conclave:Llm:Model is required for the {provider} provider.");
        }

        if (provider == LlmOptions.Anthropic && string.IsNullOrWhiteSpace(options.ApiKey))
        {
            failures.Add("Conclave:Llm:ApiKey is required for the anthropic provider.");
        }

        if (provider == LlmOptions.OpenAI && options.Endpoint is null && string.IsNullOrWhiteSpace(options.ApiKey))
        {
            failures.Add("Conclave:Llm:ApiKey is required for OpenAI's API (set Conclave:Llm:Endpoint for a local OpenAI-compatible server that needs none).");
        }

        // Not echoed: a URL may carry credentials.
        if (options.Endpoint is { } endpoint && !(endpoint.IsAbsoluteUri && (endpoint.Scheme == Uri.UriSchemeHttp || endpoint.Scheme == Uri.UriSchemeHttps)))
        {
            failures.Add("Conclave:Llm:Endpoint must be an absolute http or https URL, such as http://localhost:11434.");
        }

        if (options.Temperature is < 0 or > 2)
        {
            failures.Add("Conclave:Llm:Temperature must be between 0 and 2.");
        }

        if (options.MaxOutputTokens is < 1)
        {
            failures.Add("Conclave:Llm:MaxOutputTokens must be 1 or more.");
        }

        if (options.MaxRetries is < 0 or > 10)
        {
            failures.Add("Conclave:Llm:MaxRetries must be between 0 and 10.");
        }

        if (options.RetryBaseDelayMs is < 1 or > 60_000)
        {
            failures.Add("Conclave:Llm:RetryBaseDelayMs must be between 1 and 60000.");
        }

        if (options.AttemptTimeoutSeconds is < 1 or > 3600)
        {
            failures.Add("Conclave:Llm:AttemptTimeoutSeconds must be between 1 and 3600.");
        }

        if (options.ReadinessCacheSeconds is < 0 or > 3600)
        {
            failures.Add("Conclave:Llm:ReadinessCacheSeconds must be between 0 and 3600.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
