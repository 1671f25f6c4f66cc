using System.Runtime.CompilerServices;
using System.Text.Json;
using Conclave.Agents.Runs;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Conclave.Server.Models;

/// <summary>
/// Turns a provider's failure into a <see cref="ModelException"/> that names the provider and its endpoint (never the
/// key), says what happened, and whether retrying can help. What happened is read off the wire, whatever the provider's
/// client throws: <see cref="Recorder"/>, an HTTP handler inside the retries, notes each attempt of the call in its
/// <see cref="Attempts"/>.
/// </summary>
internal static class ModelErrors
{
    private const int MaxDetailLength = 300;

    /// <summary>The attempts of the model call the current code runs for.</summary>
    private static readonly AsyncLocal<Attempts?> Current = new();

    /// <summary>The chat client side: gives each call its record of attempts and describes its failure.</summary>
    public sealed class ChatClient(IChatClient inner, LlmOptions options) : DelegatingChatClient(inner)
    {
        public override async Task<ChatResponse> GetResponseAsync(
            IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            var attempts = Current.Value = new Attempts();
            try
            {
                return await base.GetResponseAsync(messages, options, cancellationToken);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw Describe(ex, attempts);
            }
        }

        public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
            IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            var attempts = Current.Value = new Attempts();
            await using var updates = base.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
            while (true)
            {
                try
                {
                    if (!await updates.MoveNextAsync())
                    {
                        yield break;
                    }
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    throw Describe(ex, attempts);
                }

                yield return updates.Current;
            }
        }

        private ModelException Describe(Exception failure, Attempts attempts)
        {
            var (what, retryable) = attempts switch
            {
                { Status: >= 400 and var status } => (
                    $"answered {status} {attempts.Reason}{(attempts.Detail is { } detail ? $": {detail}" : string.Empty)}",
                    status is 408 or 429 or >= 500),
                // The answer began (2xx) and then broke off or could not be read.
                { Status: not null } => ($"broke off its answer: {failure.Message}", true),
                { Failure: OperationCanceledException } => ($"did not begin its answer within {options.AttemptTimeoutSeconds} s", true),
                { Failure: HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError } } =>
                    ("cannot be reached: its host name is not known", false),
                { Failure: { } unreachable } => ($"cannot be reached: {unreachable.Message}", true),
                // Nothing was sent: the provider's client refused the request, so the settings do not fit it.
                { Count: 0 } => ($"was not asked: {failure.Message}", false),
                _ => (failure.Message, true),
            };
            var tries = attempts.Count > 1 ? $" ({attempts.Count} attempts)" : string.Empty;
            return new ModelException(options.WithoutKey($"The model failed: {options.Describe()} {what}{tries}."), failure, retryable);
        }
    }

    /// <summary>The HTTP side: notes each attempt's status (and the provider's error message) or why it got no answer.</summary>
    public sealed class Recorder(IOptions<LlmOptions> options) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var attempts = Current.Value;
            if (attempts is null)
            {
                return await base.SendAsync(request, cancellationToken);
            }

            attempts.Begin();
            HttpResponseMessage response;
            try
            {
                response = await base.SendAsync(request, cancellationToken);
            }
            catch (Exception ex)
            {
                attempts.Failure = ex;
                throw;
            }

            attempts.Status = (int)response.StatusCode;
            attempts.Reason = response.ReasonPhrase;
            if (!response.IsSuccessStatusCode)
            {
                attempts.Detail = await ErrorMessageAsync(response, options.Value, cancellationToken);
            }

            return response;
        }

        /// <summary>The provider's error message in one line; the body stays readable for the provider's client.</summary>
        private static async Task<string?> ErrorMessageAsync(HttpResponseMessage response, LlmOptions options, CancellationToken cancellationToken)
        {
            string body;
            try
            {
                await response.Content.LoadIntoBufferAsync(64 * 1024, cancellationToken);
                body = (await response.Content.ReadAsStringAsync(cancellationToken)).Trim();
            }
            catch (HttpRequestException)
            {
                return null;
            }

            var message = MessageOf(body) ?? body;
            // One line, without its own full stop: the exception's message ends the sentence.
            message = string.Join(' ', message.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).TrimEnd('.');
            if (message.Length == 0)
            {
                return null;
            }

            message = options.WithoutKey(message);
            return message.Length > MaxDetailLength ? string.Concat(message.AsSpan(0, MaxDetailLength), "...") : message;
        }

        /// <summary>
        /// The message of a JSON error body: <c>{"error": {"message"}}</c> (OpenAI, Anthropic), <c>{"error": "..."}</c>
        /// (Ollama), or <c>{"message"}</c>.
        /// </summary>
        private static string? MessageOf(string body)
        {
            try
            {
                using var document = JsonDocument.Parse(body);
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    return null;
                }

                var error = root.TryGetProperty("error", out var e) ? e : root;
                return error.ValueKind switch
                {
                    JsonValueKind.String => error.GetString(),
                    JsonValueKind.Object when error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String => m.GetString(),
                    _ => null,
                };
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }

    /// <summary>What the attempts of one model call got: the last attempt's status, or why it got none.</summary>
    private sealed class Attempts
    {
        public int Count { get; private set; }

        public int? Status { get; set; }

        public string? Reason { get; set; }

        public string? Detail { get; set; }

        public Exception? Failure { get; set; }

        public void Begin()
        {
            Count++;
            Status = null;
            Reason = null;
            Detail = null;
            Failure = null;
        }
    }
}
