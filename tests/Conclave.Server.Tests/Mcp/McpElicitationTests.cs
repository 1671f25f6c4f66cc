using System.Text.Json;
using Conclave.Mcp;
using ModelContextProtocol.Protocol;

namespace Conclave.Server.Tests.Mcp;

/// <summary>A server's request for input as a question, and the reply as its answer.</summary>
public sealed class McpElicitationTests
{
    [Fact]
    public void AOneFieldFormTakesTheReplyAsTheFieldsValueAndOffersItsChoices()
    {
        var request = Form("""{"type":"object","properties":{"color":{"type":"string","enum":["red","blue"]}},"required":["color"]}""");

        var (question, options) = McpElicitation.Question("srv", request);
        Assert.StartsWith("The MCP server 'srv' asks: Pick one", question, StringComparison.Ordinal);
        Assert.Equal(["red", "blue"], options);

        var answer = McpElicitation.Result(request, " blue ");
        Assert.Equal("accept", answer.Action);
        Assert.Equal("blue", answer.Content!["color"].GetString());
        Assert.Equal("cancel", McpElicitation.Result(request, "green").Action);
    }

    [Theory]
    [InlineData("""{"type":"boolean"}""", "yes", "true")]
    [InlineData("""{"type":"boolean"}""", "no", "false")]
    [InlineData("""{"type":"integer"}""", "42", "42")]
    [InlineData("""{"type":"number"}""", "2.5", "2.5")]
    public void ATypedFieldGetsItsType(string field, string reply, string json)
    {
        var request = Form("""{"type":"object","properties":{"v":""" + field + "}}");

        var answer = McpElicitation.Result(request, reply);

        Assert.Equal("accept", answer.Action);
        Assert.Equal(json, answer.Content!["v"].GetRawText());
    }

    [Fact]
    public void AFormOfSeveralFieldsTakesAJsonObjectAndTheWordsDeclineAndCancelAnswerSo()
    {
        var request = Form("""{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name"]}""");

        var (question, options) = McpElicitation.Question("srv", request);
        Assert.Null(options);
        Assert.Contains("- name (string, required)", question, StringComparison.Ordinal);

        var answer = McpElicitation.Result(request, """{"name": "Ada", "age": 36, "other": 1}""");
        Assert.Equal("accept", answer.Action);
        Assert.Equal(["age", "name"], answer.Content!.Keys.Order());
        Assert.Equal("cancel", McpElicitation.Result(request, "Ada").Action);
        Assert.Equal("decline", McpElicitation.Result(request, "Decline").Action);
        Assert.Equal("cancel", McpElicitation.Result(request, "cancel").Action);
    }

    [Fact]
    public void AUrlRequestAsksToOpenIt()
    {
        var request = new ElicitRequestParams { Mode = "url", Message = "Sign in", Url = "https://example.com/auth", ElicitationId = "e1" };

        var (question, options) = McpElicitation.Question("srv", request);

        Assert.Contains("Open https://example.com/auth", question, StringComparison.Ordinal);
        Assert.Equal(["done", "decline"], options);
        Assert.Equal("accept", McpElicitation.Result(request, "done").Action);
    }

    private static ElicitRequestParams Form(string schema) => new()
    {
        Message = "Pick one",
        RequestedSchema = JsonSerializer.Deserialize<ElicitRequestParams.RequestSchema>(schema, ModelContextProtocol.McpJsonUtilities.DefaultOptions),
    };
}
