using System.Text.Json;
using Conclave.Agents.Events;

namespace Conclave.Agents.Tests.Events;

public sealed class JsonTextTests
{
    [Theory]
    [InlineData(""" "plain" """)]
    [InlineData(""" "\ud83d\ude00 and \u00e9" """)]
    [InlineData(""" {"a": [1, 2.5e3, true, null, {"b\n": "c\"\\/"}]} """)]
    [InlineData("42")]
    public void TextWithoutLoneSurrogatesIsValidAndRepairLeavesItAsItIs(string json)
    {
        var element = JsonDocument.Parse(json).RootElement;

        Assert.True(JsonText.IsValid(element));
        Assert.Equal(element.GetRawText(), JsonText.Repair(element).GetRawText());
    }

    [Theory]
    [InlineData(""" "\ud800" """, "\"\uFFFD\"")]
    [InlineData(""" "a\udc00b" """, "\"a\uFFFDb\"")]
    [InlineData(""" "\ud800\ud83d\ude00\udfff" """, "\"\uFFFD😀\uFFFD\"")]
    [InlineData(""" ["ok", "x\ud800\n\"y\\"] """, "[\"ok\",\"x\uFFFD\\n\\\"y\\\\\"]")]
    [InlineData(""" {"\ud800": {"n": -1.5E+3, "t": true, "z": null}} """, "{\"\uFFFD\":{\"n\":-1.5E+3,\"t\":true,\"z\":null}}")]
    public void LoneSurrogatesAreInvalidAndRepairedToTheReplacementCharacter(string json, string repaired)
    {
        var element = JsonDocument.Parse(json).RootElement;

        Assert.False(JsonText.IsValid(element));
        var fixedElement = JsonText.Repair(element);
        Assert.True(JsonText.IsValid(fixedElement));
        Assert.Equal(
            JsonSerializer.Serialize(JsonDocument.Parse(repaired).RootElement),
            JsonSerializer.Serialize(fixedElement));
    }

    [Fact]
    public void RepairingOptionsWriteElementsInsideOtherValuesRepaired()
    {
        var arguments = new Dictionary<string, object?>
        {
            ["path"] = "a.txt",
            ["content"] = JsonDocument.Parse(""" "bad\ud800" """).RootElement,
        };

        Assert.Throws<JsonException>(() => JsonSerializer.Serialize(arguments));
        var json = JsonSerializer.SerializeToElement(arguments, JsonText.Repairing(JsonSerializerOptions.Default));

        Assert.Equal("bad\uFFFD", json.GetProperty("content").GetString());
        Assert.Equal("a.txt", json.GetProperty("path").GetString());
    }
}
