using System.Text.RegularExpressions;

namespace Conclave.Agents.Skills;

/// <summary>A skill that matched a message.</summary>
/// <param name="Skill">The skill.</param>
/// <param name="Score">The share of the skill's keywords found in the message, 0..1 (1 when the skill was forced).</param>
/// <param name="Matched">The keywords found.</param>
public sealed record SkillMatch(Skill Skill, double Score, IReadOnlyList<string> Matched);

/// <summary>
/// Picks the skill for a message: a keyword matches case-insensitively as a whole word or phrase
/// (letters, digits and '_' around it end a match). The highest score wins, then the most keywords
/// found, then the name.
/// </summary>
public static class SkillMatcher
{
    private static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(100);

    /// <summary>The best match for the message, or null when no skill's keyword is in it.</summary>
    public static SkillMatch? Match(string message, IEnumerable<Skill> skills)
    {
        ArgumentNullException.ThrowIfNull(message);
        SkillMatch? best = null;
        foreach (var skill in skills)
        {
            var keywords = skill.Keywords.Where(k => !string.IsNullOrWhiteSpace(k)).ToList();
            var matched = keywords.Where(k => ContainsPhrase(message, k)).ToList();
            if (matched.Count == 0)
            {
                continue;
            }

            var candidate = new SkillMatch(skill, Math.Round((double)matched.Count / keywords.Count, 4), matched);
            if (best is null || IsBetter(candidate, best))
            {
                best = candidate;
            }
        }

        return best;
    }

    /// <summary>Whether <paramref name="phrase"/> stands in <paramref name="text"/> as whole words, ignoring case.</summary>
    public static bool ContainsPhrase(string text, string phrase)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(phrase);
        var words = phrase.Trim().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(Regex.Escape);
        var pattern = $@"(?<![\p{{L}}\p{{N}}_]){string.Join(@"\s+", words)}(?![\p{{L}}\p{{N}}_])";
        return Regex.IsMatch(text, pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, RegexTimeout);
    }

    private static bool IsBetter(SkillMatch candidate, SkillMatch best) =>
        candidate.Score != best.Score
            ? candidate.Score > best.Score
            : candidate.Matched.Count != best.Matched.Count
                ? candidate.Matched.Count > best.Matched.Count
                : string.CompareOrdinal(candidate.Skill.Name, best.Skill.Name) < 0;
}
