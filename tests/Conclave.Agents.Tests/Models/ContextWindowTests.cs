using Conclave.Agents.Models;
using Microsoft.Extensions.AI;

namespace Conclave.Agents.Tests.Models;

public sealed class ContextWindowTests
{
    private readonly TokenCounter _counter = new();

    [Fact]
    public void TokensAreCountedWithTheTokenizerNotByCharacters()
    {
        var hello = _counter.Count(new ChatMessage(ChatRole.User, "hello"));
        var many = _counter.Count(new ChatMessage(ChatRole.User, string.Join(' ', Enumerable.Repeat("hello", 100))));

        Assert.InRange(hello, 5, 6);
        Assert.InRange(many, 100, 110);
    }

    [Theory]
    [InlineData("hello world")]
    [InlineData("日本語のテキストは一文字が三バイトになる")]
    [InlineData("🙂🙃😉 emoji 🎉🎊 and more 🙂")]
    [InlineData("ŝ ĉ ĝ ĥ ĵ ŭ · ∑ ∫ √ ∞ ≠ ≤ ≥")]
    [InlineData(" \t\n{}[]();:.,'\"!?")]
    public void TheBoundWithoutTokenizingIsNeverBelowTheCount(string text)
    {
        var message = new ChatMessage(ChatRole.User, string.Concat(Enumerable.Repeat(text, 20)));

        Assert.True(_counter.AtMost(message) >= _counter.Count(message));
    }

    [Fact]
    public void PromptThatFitsIsLeftAlone()
    {
        var messages = Conversation(3);

        Assert.Equal(0, ContextWindow.Fit(messages, 10_000, _counter));
        Assert.Equal(7, messages.Count);
    }

    [Fact]
    public void OldestTurnsGoFirstAndSystemAndNewestStay()
    {
        var messages = Conversation(5);
        var budget = _counter.Count(messages[0]) + _counter.Count(messages[^1]) + _counter.Count(messages[^2]) + _counter.Count(messages[^3]);

        var removed = ContextWindow.Fit(messages, budget, _counter);

        Assert.Equal(7, removed);
        Assert.Equal(["You are helpful.", "turn 4 answer", "turn 5", "turn 5 answer"], messages.Select(m => m.Text));
    }

    [Fact]
    public void NewestMessageStaysEvenWhenItAloneIsTooLarge()
    {
        var messages = Conversation(2);
        messages.Add(new ChatMessage(ChatRole.User, string.Join(' ', Enumerable.Repeat("long", 500))));

        ContextWindow.Fit(messages, 50, _counter);

        Assert.Equal(2, messages.Count);
        Assert.Equal(ChatRole.System, messages[0].Role);
        Assert.StartsWith("long long", messages[1].Text, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEstimateCountsThePromptWithTheTokenizerAndTakesTheOutputAsGiven()
    {
        var prompt = Conversation(3);

        var usage = _counter.Estimate(prompt, outputTokens: 42);

        Assert.Equal(prompt.Sum(_counter.Count), usage.InputTokens);
        Assert.Equal(42, usage.OutputTokens);
    }

    [Fact]
    public void AnEstimateOfAHugeMessageCountsItsCharactersInsteadOfTokenizingIt()
    {
        // One run of 4 MB of letters: byte-pair encoding it would take minutes.
        var prompt = new List<ChatMessage> { new(ChatRole.User, new string('x', 4 * 1024 * 1024)) };

        var usage = _counter.Estimate(prompt, outputTokens: 0);

        Assert.Equal(4 + (1024 * 1024), usage.InputTokens);
    }

    private static List<ChatMessage> Conversation(int turns)
    {
        var messages = new List<ChatMessage> { new(ChatRole.System, "You are helpful.") };
        for (var i = 1; i <= turns; i++)
        {
            messages.Add(new ChatMessage(ChatRole.User, $"turn {i}"));
            messages.Add(new ChatMessage(ChatRole.Assistant, $"turn {i} answer"));
        }

        return messages;
    }
}
