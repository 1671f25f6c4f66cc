using Microsoft.Extensions.AI;

namespace Conclave.Server.Models;

/// <summary>
/// Gives every model call the operator's defaults (<c>Conclave:Llm:Temperature</c>, <c>Conclave:Llm:MaxOutputTokens</c>)
/// where the caller set none, on a copy of the caller's options. The call's response is the model's own, passed on as
/// it comes: no layer of its own between the model and the agent loop for each streamed piece.
/// </summary>
internal sealed class ModelDefaults(IChatClient inner, float? temperature, int? maxOutputTokens) : DelegatingChatClient(inner)
{
    public override Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        base.GetResponseAsync(messages, WithDefaults(options), cancellationToken);

    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        base.GetStreamingResponseAsync(messages, WithDefaults(options), cancellationToken);

    private ChatOptions WithDefaults(ChatOptions? options)
    {
        var configured = options?.Clone() ?? new ChatOptions();
        configured.Temperature ??= temperature;
        configured.MaxOutputTokens ??= maxOutputTokens;
        return configured;
    }
}
