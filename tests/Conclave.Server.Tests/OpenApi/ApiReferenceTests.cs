using System.Net;
using System.Text.RegularExpressions;
using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests.OpenApi;

/// <summary>The browsable API reference at /api/reference/: served by the server itself, loading nothing from elsewhere.</summary>
public sealed partial class ApiReferenceTests
{
    [Fact]
    public async Task TheReferenceAndEverythingItLoadsComeFromThisServerWithoutAKey()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        using var anonymous = server.CreateClient(null);

        using var page = await anonymous.GetAsync("/api/reference/index.html");
        var html = await page.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var csp = Assert.Single(page.Headers.GetValues("Content-Security-Policy"));
        foreach (var directive in new[] { "default-src 'self'", "script-src 'self';", "connect-src 'self'", "img-src 'self' data:", "font-src 'self'", "frame-ancestors 'none'" })
        {
            Assert.Contains(directive, csp, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        var loaded = Loaded().Matches(html).Select(m => m.Groups["url"].Value).ToList();
        Assert.Contains("index.js", loaded);
        Assert.Contains(loaded, url => url.EndsWith("swagger-ui-bundle.js", StringComparison.Ordinal));
        foreach (var url in loaded)
        {
            Assert.False(url.Contains("//", StringComparison.Ordinal), $"the page loads {url} from another host");
            using var asset = await anonymous.GetAsync(new Uri(new Uri(server.BaseUri, "/api/reference/"), url));
            Assert.True(asset.StatusCode == HttpStatusCode.OK, $"{url}: {asset.StatusCode}");
        }

        // The page's settings: the document from this server, and no validator badge (Swagger UI's default calls validator.swagger.io).
        var settings = await anonymous.GetStringAsync("/api/reference/index.js");
        var config = Config().Match(settings).Groups["json"].Value;
        Assert.Contains("\"url\":\"/openapi/v1.json\"", config, StringComparison.Ordinal);
        Assert.DoesNotContain("http", config, StringComparison.Ordinal);
        Assert.DoesNotContain("validatorUrl", config, StringComparison.Ordinal);
        using var document = await anonymous.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, document.StatusCode);
    }

    [Fact]
    public async Task TheBarePathLeadsToThePage()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = server.BaseUri };

        using var bare = await client.GetAsync("/api/reference");

        Assert.Equal(HttpStatusCode.MovedPermanently, bare.StatusCode);
        Assert.Equal("/api/reference/index.html", new Uri(new Uri(server.BaseUri, "/api/reference"), bare.Headers.Location!).AbsolutePath);
    }

    [GeneratedRegex("(?:src|href)=\"(?<url>[^\"]+)\"")]
    private static partial Regex Loaded();

    [GeneratedRegex("""var configObject = (?<json>\{.*?\});""")]
    private static partial Regex Config();
}
