using System.ComponentModel.DataAnnotations;
using Conclave.Agents.Events;
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

    // Byte-pair encoding of one long run of letters grows with the square of its length: past this, estimates count characters.
    private const int MaxTokenizedChars = 8 * 1024;
    private static readonly Lazy<Tokenizer> Tokenizer = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));

    /// <summary>The tokens a message takes in a prompt.</summary>
    public int Count(ChatMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return PerMessageOverhead + Tokenizer.Value.CountTokens(message.Text);
    }

    /// <summary>The tokens of a text: tokenized, or at four characters a token for a text too long to tokenize cheaply.</summary>
    public int CountText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Length <= MaxTokenizedChars ? Tokenizer.Value.CountTokens(text) : text.Length / 4;
    }

    /// <summary>
    /// The most tokens a message can take, without tokenizing it: a token is at least one byte of UTF-8, and a UTF-16
    /// character at most three.
    /// </summary>
    public long AtMost(ChatMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return PerMessageOverhead + (3L * message.Text.Length);
    }

    /// <summary>
    /// What a model call used, estimated here for a call that ended without the provider's own count (it was cancelled,
    /// failed, or the provider reports none), so that a run's usage never leaves a call out. The prompt is counted
    /// with the tokenizer, or at four characters a token for a message too long to tokenize cheaply; the output's
    /// <paramref name="outputTokens"/> are the caller's estimate (the pieces it streamed, about one token each).
    /// </summary>
    public Usage Estimate(IEnumerable<ChatMessage> prompt, int outputTokens)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        return new Usage(prompt.Sum(m => PerMessageOverhead + CountText(m.Text)), outputTokens);
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
        // Most prompts are far inside the window: counting their tokens (every run's start) would only confirm it.
        if (messages.Sum(counter.AtMost) <= maxTokens)
        {
            return 0;
        }

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
