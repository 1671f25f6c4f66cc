using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;

namespace Conclave.Agents.Models;

/// <summary>How much history the model is sent (<c>Conclave:Llm:MaxContextTokens</c>).</summary>
public sealed class ContextOptions
{
    /// <summary>The most tokens of prompt sent with a new message: the oldest turns are left out past it.</summary>
    [Range(256, 10_000_000)]
    public int MaxContextTokens { get; set; } = 32_000;
}

/// <summary>Counts tokens the way current models split text (the o200k encoding); close enough for every provider's budget.</summary>
public sealed class TokenCounter
{
    private const int PerMessageOverhead = 4;
    private static readonly Lazy<Tokenizer> Tokenizer = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));

    /// <summary>The tokens a message takes in a prompt.</summary>
    public int Count(ChatMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return PerMessageOverhead + Tokenizer.Value.CountTokens(message.Text);
    }
}

/// <summary>
/// Keeps a prompt within the model's context: the system prompt and the newest message always stay,
/// and the oldest turns in between go first.
/// </summary>
public static class ContextWindow
{
    /// <summary>Removes the oldest history messages of <paramref name="messages"/> until it fits; returns how many went.</summary>
    public static int Fit(List<ChatMessage> messages, int maxTokens, TokenCounter counter)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(counter);
        var first = messages.Count > 0 && messages[0].Role == ChatRole.System ? 1 : 0;
        var total = messages.Sum(counter.Count);
        var removed = 0;
        while (total > maxTokens && messages.Count - first > 1)
        {
            total -= counter.Count(messages[first]);
            messages.RemoveAt(first);
            removed++;
        }

        return removed;
    }
}
