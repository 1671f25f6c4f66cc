using Conclave.Agents.Skills;

namespace Conclave.Agents.Tests.Skills;

public sealed class SkillMatcherTests
{
    [Theory]
    [InlineData("Please use WS_SKILL_MATCH now")]
    [InlineData("ws_skill_match")]
    [InlineData("(ws_skill_match)")]
    [InlineData("run ws_skill_match.")]
    public void AKeywordMatchesAsAWholeWordIgnoringCase(string message) =>
        Assert.True(SkillMatcher.ContainsPhrase(message, "ws_skill_match"));

    [Theory]
    [InlineData("use ws_skill_matcher now")]
    [InlineData("use xws_skill_match now")]
    [InlineData("use ws_skill_match2 now")]
    [InlineData("use éws_skill_match now")]
    [InlineData("nothing here")]
    public void AKeywordInsideALongerWordDoesNotMatch(string message) =>
        Assert.False(SkillMatcher.ContainsPhrase(message, "ws_skill_match"));

    [Theory]
    [InlineData("I study machine learning daily")]
    [InlineData("I study Machine   Learning daily")]
    [InlineData("I study machine\n\tlearning daily")]
    public void APhraseMatchesAcrossAnyWhitespace(string message) =>
        Assert.True(SkillMatcher.ContainsPhrase(message, "machine learning"));

    [Theory]
    [InlineData("machine-learning")]
    [InlineData("machinelearning")]
    [InlineData("learning machine")]
    public void APhraseNeedsItsWordsInOrderSeparatedByWhitespace(string message) =>
        Assert.False(SkillMatcher.ContainsPhrase(message, "machine learning"));

    [Theory]
    [InlineData("I write C++ every day", "c++", true)]
    [InlineData("I write c every day", "c++", false)]
    [InlineData("I use .NET 10", ".net", true)]
    [InlineData("use a -net here", ".net", false)]
    [InlineData("price is 3$", "3$", true)]
    [InlineData("a (b) c", "(b)", true)]
    [InlineData("a b c", "(b)", false)]
    [InlineData("files *.cs here", "*.cs", true)]
    public void RegexCharactersInKeywordsAreLiteral(string message, string keyword, bool expected) =>
        Assert.Equal(expected, SkillMatcher.ContainsPhrase(message, keyword));

    [Fact]
    public void TheScoreIsTheShareOfKeywordsFound()
    {
        var skill = Skill("research", "alpha", "beta", "gamma", "delta");

        var match = SkillMatcher.Match("alpha and BETA only", [skill]);

        Assert.NotNull(match);
        Assert.Same(skill, match.Skill);
        Assert.Equal(0.5, match.Score);
        Assert.Equal(["alpha", "beta"], match.Matched);
    }

    [Fact]
    public void BlankKeywordsDoNotCountTowardsTheScore()
    {
        var match = SkillMatcher.Match("alpha", [Skill("s", "alpha", " ", "", "beta")]);

        Assert.Equal(0.5, match?.Score);
    }

    [Fact]
    public void TheHigherScoreWins()
    {
        var broad = Skill("broad", "alpha", "beta", "gamma", "delta");
        var narrow = Skill("narrow", "alpha");

        Assert.Same(narrow, SkillMatcher.Match("alpha beta", [broad, narrow])?.Skill);
        Assert.Same(narrow, SkillMatcher.Match("alpha beta", [narrow, broad])?.Skill);
    }

    [Fact]
    public void OnAnEqualScoreMoreKeywordsFoundWins()
    {
        var one = Skill("a-one", "alpha");
        var two = Skill("z-two", "alpha", "beta");

        Assert.Same(two, SkillMatcher.Match("alpha beta", [one, two])?.Skill);
        Assert.Same(two, SkillMatcher.Match("alpha beta", [two, one])?.Skill);
    }

    [Fact]
    public void OnAnEqualScoreAndCountTheFirstNameInOrdinalOrderWins()
    {
        var b = Skill("beta-skill", "alpha");
        var a = Skill("alpha-skill", "alpha");

        Assert.Same(a, SkillMatcher.Match("alpha", [b, a])?.Skill);
        Assert.Same(a, SkillMatcher.Match("alpha", [a, b])?.Skill);
    }

    [Fact]
    public void NoKeywordFoundMeansNoMatch()
    {
        Assert.Null(SkillMatcher.Match("nothing relevant", [Skill("a", "alpha"), Skill("b", "beta")]));
        Assert.Null(SkillMatcher.Match("alpha", [Skill("empty")]));
        Assert.Null(SkillMatcher.Match("alpha", []));
    }

    private static Skill Skill(string name, params string[] keywords) =>
        new(name, $"The {name} skill.", keywords, $"You are the {name} skill.", null);
}
