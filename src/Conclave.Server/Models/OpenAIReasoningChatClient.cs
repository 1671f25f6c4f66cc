using System.ClientModel.Primitives;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Conclave.Server.Models;

/// <summary>
/// Adds the reasoning of OpenAI-compatible servers that stream it as <c>delta.reasoning_content</c>
/// (DeepSeek, Qwen, vLLM, llama.cpp) as <see cref="TextReasoningContent"/>. The OpenAI library keeps that
/// field only as raw data, so it is read from the update's raw form, and only for updates without text.
/// </summary>
internal sealed class OpenAIReasoningChatClient(IChatClient inner) : DelegatingChatClient(inner)
{
    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var update in base.GetStreamingResponseAsync(messages, options, cancellationToken))
        {
            if (update.RawRepresentation is OpenAI.Chat.StreamingChatCompletionUpdate raw
                && !update.Contents.Any(c => c is TextContent { Text.Length: > 0 })
                && ReasoningOf(raw) is { Length: > 0 } reasoning)
            {
                update.Contents.Insert(0, new TextReasoningContent(reasoning));
            }

            yield return update;
        }
    }

    private static string? ReasoningOf(OpenAI.Chat.StreamingChatCompletionUpdate raw)
    {
        using var json = JsonDocument.Parse(ModelReaderWriter.Write(raw, ModelReaderWriterOptions.Json).ToMemory());
        return json.RootElement.TryGetProperty("choices", out var choices)
            && choices.ValueKind == JsonValueKind.Array
            && choices.GetArrayLength() > 0
            && choices[0].TryGetProperty("delta", out var delta)
            && delta.TryGetProperty("reasoning_content", out var reasoning)
            && reasoning.ValueKind == JsonValueKind.String
                ? reasoning.GetString()
                : null;
    }
}
