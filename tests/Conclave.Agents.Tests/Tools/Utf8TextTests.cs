using System.Text;
using Conclave.Agents.Tools;

namespace Conclave.Agents.Tests.Tools;

public sealed class Utf8TextTests
{
    [Theory]
    [InlineData("abc", 3, "abc")]
    [InlineData("aé", 2, "a")]
    [InlineData("aé", 3, "aé")]
    [InlineData("a€", 3, "a")]
    [InlineData("a€", 2, "a")]
    [InlineData("a😀", 4, "a")]
    [InlineData("a😀", 5, "a😀")]
    public void CutTextLosesOnlyTheIncompleteLastCharacter(string text, int keep, string expected)
    {
        var bytes = Encoding.UTF8.GetBytes(text).AsSpan(0, keep);

        Assert.Equal(expected, Utf8Text.DecodeCut(bytes));
    }
}
