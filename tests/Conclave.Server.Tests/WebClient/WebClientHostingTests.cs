using System.Net;
using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests.WebClient;

/// <summary>How the server serves the web client's files (the client itself is tested in a browser, under web/).</summary>
public sealed class WebClientHostingTests
{
    [Fact]
    public async Task TheRootServesIndexHtmlWithAStrictContentSecurityPolicyAndNoKey()
    {
        using var webRoot = new TempDataDir();
        await File.WriteAllTextAsync(Path.Combine(webRoot.Path, "index.html"), "<!doctype html><title>Conclave</title><script src=\"app.js\"></script>");
        await File.WriteAllTextAsync(Path.Combine(webRoot.Path, "app.js"), "console.log('hi');");
        await using var server = await ConclaveTestServer.StartAsync(webRoot: webRoot.Path);
        using var anonymous = server.CreateClient(null);

        using var page = await anonymous.GetAsync("/");
        using var script = await anonymous.GetAsync("/app.js");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<title>Conclave</title>", await page.Content.ReadAsStringAsync());
        var csp = Assert.Single(page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self';", csp);
        Assert.Contains("default-src 'self';", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.DoesNotContain("unsafe-inline", csp);
        Assert.DoesNotContain("unsafe-eval", csp);
        Assert.Equal("nosniff", Assert.Single(page.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Single(script.Headers.GetValues("Content-Security-Policy"));
    }

    [Fact]
    public async Task TheApiIsNotShadowedByTheWebRoot()
    {
        using var webRoot = new TempDataDir();
        await File.WriteAllTextAsync(Path.Combine(webRoot.Path, "index.html"), "<!doctype html>");
        await using var server = await ConclaveTestServer.StartAsync(webRoot: webRoot.Path);
        using var anonymous = server.CreateClient(null);

        using var api = await anonymous.GetAsync("/api/v1/sessions");
        using var missing = await anonymous.GetAsync("/no-such-file.js");

        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task WithoutABuiltClientTheRootSaysHowToBuildIt()
    {
        using var webRoot = new TempDataDir();
        await using var server = await ConclaveTestServer.StartAsync(webRoot: webRoot.Path);
        using var anonymous = server.CreateClient(null);

        using var page = await anonymous.GetAsync("/");

        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.Equal("application/problem+json", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("npm run build", await page.Content.ReadAsStringAsync());
    }
}
