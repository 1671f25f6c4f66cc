using System.Text.Json;
using Conclave.Agents.Tools;

namespace Conclave.Agents.Tests.Tools;

public sealed class ToolCatalogTests : IDisposable
{
    private readonly ToolHost _tools = new(new ToolOptions());

    public void Dispose() => _tools.Dispose();

    [Fact]
    public void TheCatalogHoldsTheBuiltInTools() =>
        Assert.Equal(
            ["calculator", "ask_human", "read_file", "list_files", "write_file", "http_get", "convene_team"],
            _tools.Catalog.All.Select(t => t.Name));

    [Fact]
    public void OnlyWriteFileAndHttpGetRequireConfirmation()
    {
        var confirmed = _tools.Catalog.All.Where(t => t.RequiresConfirmation).Select(t => t.Name).Order(StringComparer.Ordinal);

        Assert.Equal(["http_get", "write_file"], confirmed);
    }

    [Fact]
    public void ToolsThatRequireConfirmationSayWhy() =>
        Assert.All(
            _tools.Catalog.All.Where(t => t.RequiresConfirmation),
            t => Assert.False(string.IsNullOrWhiteSpace(t.ConfirmationReason)));

    [Fact]
    public void EveryToolHasADescription() =>
        Assert.All(_tools.Catalog.All, t => Assert.False(string.IsNullOrWhiteSpace(t.Function.Description), t.Name));

    [Theory]
    [InlineData("calculator", new[] { "expression" }, new[] { "expression" })]
    [InlineData("ask_human", new[] { "question", "options" }, new[] { "question" })]
    [InlineData("read_file", new[] { "path" }, new[] { "path" })]
    [InlineData("write_file", new[] { "path", "content" }, new[] { "path", "content" })]
    [InlineData("http_get", new[] { "url" }, new[] { "url" })]
    public void EachToolsSchemaListsExactlyItsParametersAndWhichAreRequired(string name, string[] parameters, string[] required)
    {
        var schema = _tools.Tool(name).Function.JsonSchema;

        Assert.Equal("object", schema.GetProperty("type").GetString());
        Assert.Equal(
            parameters.Order(StringComparer.Ordinal),
            schema.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(required.Order(StringComparer.Ordinal), Required(schema));
    }

    [Fact]
    public void ListFilesSchemaHasAPathParameter() =>
        Assert.Equal(
            ["path"],
            _tools.Tool("list_files").Function.JsonSchema.GetProperty("properties").EnumerateObject().Select(p => p.Name));

    [Fact]
    public void ListFilesPathIsOptionalInItsSchema() =>
        Assert.Empty(Required(_tools.Tool("list_files").Function.JsonSchema));

    [Fact]
    public void ParametersTheRuntimeSuppliesAreNotInAnySchema() =>
        Assert.All(_tools.Catalog.All, t =>
        {
            var names = t.Function.JsonSchema.GetProperty("properties").EnumerateObject().Select(p => p.Name).ToList();
            Assert.DoesNotContain("arguments", names);
            Assert.DoesNotContain("cancellationToken", names);
        });

    [Fact]
    public void ToolsAreFoundByExactName()
    {
        Assert.True(_tools.Catalog.TryGet("write_file", out var tool));
        Assert.Equal("write_file", tool.Name);
        Assert.False(_tools.Catalog.TryGet("WRITE_FILE", out _));
        Assert.False(_tools.Catalog.TryGet("rm", out _));
    }

    [Fact]
    public void SelectKeepsOnlyTheAllowedToolsInCatalogOrder()
    {
        Assert.Equal(["calculator", "http_get"], _tools.Catalog.Select(["http_get", "calculator", "unknown"]).Select(t => t.Name));
        Assert.Equal(7, _tools.Catalog.Select(null).Count);
        Assert.Empty(_tools.Catalog.Select([]));
    }

    [Fact]
    public async Task TheCalculatorToolEvaluatesAndFormats()
    {
        var context = new ToolContext(new Workspace(Path.GetTempPath()), new ScriptedHuman());

        Assert.Equal("84", await _tools.CallAsync("calculator", context, new() { ["expression"] = "12*(3+4)" }));
    }

    [Fact]
    public async Task AskHumanPassesTheQuestionAndOptionsAndReturnsTheReply()
    {
        var human = new ScriptedHuman("blue");
        var context = new ToolContext(new Workspace(Path.GetTempPath()), human);
        using var options = JsonDocument.Parse("""["red","blue"]""");

        var reply = await _tools.CallAsync("ask_human", context, new() { ["question"] = "Which colour?", ["options"] = options.RootElement });

        Assert.Equal("blue", reply);
        var (question, offered) = Assert.Single(human.Questions);
        Assert.Equal("Which colour?", question);
        Assert.Equal(["red", "blue"], offered!);
    }

    [Fact]
    public async Task AskHumanWithoutOptionsAsksWithNone()
    {
        var human = new ScriptedHuman("fine");
        var context = new ToolContext(new Workspace(Path.GetTempPath()), human);

        Assert.Equal("fine", await _tools.CallAsync("ask_human", context, new() { ["question"] = "How are you?" }));
        Assert.Null(Assert.Single(human.Questions).Options);
    }

    private static IEnumerable<string> Required(JsonElement schema) =>
        schema.TryGetProperty("required", out var required)
            ? required.EnumerateArray().Select(r => r.GetString()!).Order(StringComparer.Ordinal)
            : [];

    [Fact]
    public async Task ConveneTeamHandsTheGoalToTheRunsTeamAndReturnsItsAnswer()
    {
        string? convened = null;
        var context = new ToolContext(new Workspace(Path.GetTempPath()), new ScriptedHuman(), (goal, _) =>
        {
            convened = goal;
            return Task.FromResult("the team's answer");
        });

        var result = await _tools.CallAsync("convene_team", context, new() { ["goal"] = "plan a trip" });

        Assert.Equal("plan a trip", convened);
        Assert.Equal("the team's answer", result);
    }

    [Fact]
    public async Task ConveneTeamOutsideASingleRunIsAToolError()
    {
        var context = new ToolContext(new Workspace(Path.GetTempPath()), new ScriptedHuman());

        await Assert.ThrowsAsync<ToolException>(() => _tools.CallAsync("convene_team", context, new() { ["goal"] = "x" }));
    }
}
