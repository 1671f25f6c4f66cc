using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests;

/// <summary>Every error under /api is an RFC 7807 problem whose detail says, in words, what is wrong.</summary>
public sealed class ApiErrorTests
{
    [Theory]
    [InlineData("GET", "/api/v1/nope", null, null, 404, "No endpoint answers GET /api/v1/nope")]
    [InlineData("DELETE", "/api/v1/sessions", null, null, 405, "/api/v1/sessions does not take DELETE; it takes GET, POST.")]
    [InlineData("POST", "/api/v1/sessions", "text/plain", "hi", 415, "The body must be JSON, sent with Content-Type: application/json (not text/plain")]
    [InlineData("POST", "/api/v1/sessions", null, null, 400, "The request needs a JSON body")]
    [InlineData("PATCH", "/api/v1/sessions/0123456789abcdef0123456789abcdef", null, null, 400, "The request needs a JSON body")]
    [InlineData("GET", "/api/v1/sessions?limit=abc", null, null, 400, "limit must be a whole number from 1 to 200; 'abc' is not.")]
    [InlineData("GET", "/api/v1/sessions?limit=201", null, null, 400, "limit must be a whole number from 1 to 200; '201' is not.")]
    [InlineData("GET", "/api/v1/sessions?cursor=zzz", null, null, 400, "cursor must be the X-Next-Cursor header of an earlier page; 'zzz' is not.")]
    [InlineData("GET", "/api/v1/sessions/x/events?after=soon", null, null, 400, "after must be a whole number, 0 or more; 'soon' is not.")]
    [InlineData("GET", "/api/v1/sessions/x/events?limit=1.5", null, null, 400, "limit must be a whole number from 1 to 10000; '1.5' is not.")]
    [InlineData("POST", "/api/v1/skills", "application/json", "{}", 400, "The name is required")]
    public async Task AnErrorIsAProblemWithAReadableDetail(string method, string path, string? contentType, string? body, int status, string detail)
    {
        await using var server = await ConclaveTestServer.StartAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType!);
        }

        using var response = await server.Http.SendAsync(request);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.Contains(detail, problem.Str("detail"), StringComparison.Ordinal);
        Assert.DoesNotContain("Failed to bind", problem.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AQueryValueThatDoesNotParseNamesTheParameterInErrors()
    {
        await using var server = await ConclaveTestServer.StartAsync();

        using var response = await server.Http.GetAsync("/api/v1/sessions?limit=abc");

        await ProblemAssert.NamesFieldAsync(response, "limit");
    }

    [Fact]
    public async Task AValidCursorOfAPageStillWorksAndAnUnknownOneIsNotPageOne()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var older = await server.CreateSessionAsync();
        var newer = await server.CreateSessionAsync();

        var afterNewer = await server.Http.GetFromJsonAsync<JsonElement>($"/api/v1/sessions?cursor={newer}");
        using var bad = await server.Http.GetAsync("/api/v1/sessions?cursor=not-a-cursor");

        Assert.Equal([older], afterNewer.EnumerateArray().Select(s => s.Str("id")));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task TheWebClientsMissingFilesStayPlain404s()
    {
        using var webRoot = new TempDataDir();
        await File.WriteAllTextAsync(Path.Combine(webRoot.Path, "index.html"), "<!doctype html>");
        await using var server = await ConclaveTestServer.StartAsync(webRoot: webRoot.Path);
        using var anonymous = server.CreateClient(null);

        using var missing = await anonymous.GetAsync("/no-such-file.js");
        using var page = await anonymous.GetAsync("/");

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Empty(await missing.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
    }
}
