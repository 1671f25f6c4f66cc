using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests.OpenApi;

/// <summary>/openapi/v1.json, as a real server serves it, describes what the server takes and answers.</summary>
public sealed class OpenApiDocumentTests : IAsyncLifetime
{
    private static readonly string[] Methods = ["get", "put", "post", "patch", "delete"];
    private ConclaveTestServer? _server;
    private JsonElement _document;

    public async Task InitializeAsync()
    {
        _server = await ConclaveTestServer.StartAsync();
        _document = await _server.CreateClient(null).GetFromJsonAsync<JsonElement>("/openapi/v1.json");
    }

    public async Task DisposeAsync() => await _server!.DisposeAsync();

    private JsonElement Schemas => _document.GetProperty("components").GetProperty("schemas");

    private IEnumerable<(string Method, string Path, JsonElement Operation)> Operations =>
        _document.GetProperty("paths").EnumerateObject().SelectMany(path => path.Value.EnumerateObject()
            .Where(op => Methods.Contains(op.Name))
            .Select(op => (op.Name.ToUpperInvariant(), path.Name, op.Value)));

    [Theory]
    [InlineData("CreateSessionRequest")]
    [InlineData("SkillRequest")]
    [InlineData("ExpertRequest")]
    [InlineData("McpServerRequest")]
    [InlineData("CreateApiKeyRequest")]
    public void ARequestsNullableFieldsAreOptional(string request)
    {
        var schema = Schemas.GetProperty(request);

        Assert.True(schema.GetProperty("properties").EnumerateObject().Any());
        Assert.False(schema.TryGetProperty("required", out var required) && required.GetArrayLength() > 0, schema.GetRawText());
    }

    [Fact]
    public void EveryOperationHasAnIdAndA2xxAnswerWithASchemaWhereItHasABody()
    {
        var ids = new List<string>();
        foreach (var (method, path, operation) in Operations)
        {
            ids.Add(operation.Str("operationId") ?? throw new Xunit.Sdk.XunitException($"{method} {path} has no operationId"));
            var success = operation.GetProperty("responses").EnumerateObject().Where(r => r.Name.StartsWith('2') || r.Name == "101").ToList();
            Assert.True(success.Count > 0, $"{method} {path} describes no success");
            foreach (var answer in success.Where(r => r.Name is "200" or "201"))
            {
                var json = answer.Value.GetProperty("content").GetProperty("application/json");
                Assert.True(json.TryGetProperty("schema", out _), $"{method} {path} {answer.Name} has no schema");
            }
        }

        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void EveryOperationWithABodyOrAQueryDescribesItsProblemAnswers()
    {
        foreach (var (method, path, operation) in Operations)
        {
            var responses = operation.GetProperty("responses");
            var hasQuery = operation.TryGetProperty("parameters", out var parameters) && parameters.EnumerateArray().Any(p => p.Str("in") == "query");
            var statuses = operation.TryGetProperty("requestBody", out _) ? new[] { "400", "415" } : hasQuery ? ["400"] : [];
            foreach (var status in statuses)
            {
                Assert.True(responses.TryGetProperty(status, out var problem), $"{method} {path} does not describe {status}");
                Assert.True(problem.GetProperty("content").TryGetProperty("application/problem+json", out _), $"{method} {path} {status}");
            }
        }
    }

    [Fact]
    public void TheEventsAreAnArrayOfEventsEachWithItsTypeIdAndTime()
    {
        var ok = _document.GetProperty("paths").GetProperty("/api/v1/sessions/{id}/events").GetProperty("get")
            .GetProperty("responses").GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("schema");

        Assert.Equal("array", ok.Str("type"));
        var eventSchema = Resolve(ok.GetProperty("items"));
        Assert.Equal("type", eventSchema.GetProperty("discriminator").Str("propertyName"));
        var kinds = eventSchema.GetProperty("anyOf").EnumerateArray().Select(Resolve).ToList();
        Assert.True(kinds.Count >= 10);
        Assert.All(kinds, kind =>
        {
            var required = kind.GetProperty("required").EnumerateArray().Select(r => r.GetString()).ToList();
            Assert.Contains("type", required);
            Assert.Contains("event_id", required);
            Assert.Contains("ts", required);
            Assert.Equal("integer", kind.GetProperty("properties").GetProperty("event_id").Str("type"));
        });
        Assert.Contains(kinds, k => k.GetProperty("properties").GetProperty("type").GetProperty("enum")[0].GetString() == "final_answer");
    }

    [Fact]
    public void QueryNumbersAreIntegersAnonymousEndpointsNeedNoKeyAndServersHaveNoTrailingSlash()
    {
        var limit = _document.GetProperty("paths").GetProperty("/api/v1/sessions").GetProperty("get").GetProperty("parameters")
            .EnumerateArray().Single(p => p.Str("name") == "limit").GetProperty("schema");
        var health = _document.GetProperty("paths").GetProperty("/healthz").GetProperty("get");

        Assert.Equal("integer", limit.Str("type"));
        Assert.All(_document.GetProperty("servers").EnumerateArray(), server => Assert.False(server.Str("url")!.EndsWith('/'), server.Str("url")));
        Assert.Equal(0, health.GetProperty("security").GetArrayLength());
    }

    private JsonElement Resolve(JsonElement schema) =>
        schema.TryGetProperty("$ref", out var reference) ? Schemas.GetProperty(reference.GetString()!.Split('/')[^1]) : schema;
}
