using Conclave.Agents.Tools;

namespace Conclave.Agents.Tests.Tools;

public sealed class HttpGetToolTests
{
    [Fact]
    public async Task LoopbackIsRefusedBeforeAnyRequestIsSent()
    {
        await using var server = new LoopbackHttpServer(_ => LoopbackHttpServer.Response(200, "OK", "private data"));
        using var tools = new ToolHost(new ToolOptions());

        var error = await Assert.ThrowsAsync<ToolException>(() => tools.HttpGet.GetAsync($"http://127.0.0.1:{server.Port}/", CancellationToken.None));

        Assert.Contains("not a public address", error.Message, StringComparison.Ordinal);
        Assert.Empty(server.RequestLines);
    }

    [Fact]
    public async Task LocalhostByNameIsRefusedBeforeAnyRequestIsSent()
    {
        await using var server = new LoopbackHttpServer(_ => LoopbackHttpServer.Response(200, "OK", "private data"));
        using var tools = new ToolHost(new ToolOptions());

        var error = await Assert.ThrowsAsync<ToolException>(() => tools.HttpGet.GetAsync($"http://localhost:{server.Port}/", CancellationToken.None));

        Assert.Contains("not a public address", error.Message, StringComparison.Ordinal);
        Assert.Empty(server.RequestLines);
    }

    [Fact]
    public async Task AnAllowedHostIsFetchedWithStatusAndBody()
    {
        await using var server = new LoopbackHttpServer(_ => LoopbackHttpServer.Response(200, "OK", "hello from loopback"));
        using var tools = new ToolHost(new ToolOptions { HttpGet = { AllowedHosts = ["127.0.0.1"] } });

        var result = await tools.HttpGet.GetAsync($"http://127.0.0.1:{server.Port}/page", CancellationToken.None);

        Assert.Equal("HTTP 200 OK\nhello from loopback", result);
        Assert.Equal("GET /page HTTP/1.1", Assert.Single(server.RequestLines));
    }

    [Fact]
    public async Task AnErrorStatusIsReturnedNotThrown()
    {
        await using var server = new LoopbackHttpServer(_ => LoopbackHttpServer.Response(404, "Not Found", "no such page"));
        using var tools = new ToolHost(new ToolOptions { HttpGet = { AllowedHosts = ["127.0.0.1"] } });

        var result = await tools.HttpGet.GetAsync($"http://127.0.0.1:{server.Port}/missing", CancellationToken.None);

        Assert.Equal("HTTP 404 Not Found\nno such page", result);
    }

    [Fact]
    public async Task ABodyLargerThanTheLimitIsCutWithANote()
    {
        await using var server = new LoopbackHttpServer(_ => LoopbackHttpServer.Response(200, "OK", new string('x', 1000)));
        using var tools = new ToolHost(new ToolOptions { HttpGet = { AllowedHosts = ["127.0.0.1"], MaxBytes = 16 } });

        var result = await tools.HttpGet.GetAsync($"http://127.0.0.1:{server.Port}/", CancellationToken.None);

        Assert.Equal($"HTTP 200 OK\n{new string('x', 16)}\n[truncated at 16 bytes]", result);
    }

    [Fact]
    public async Task ABodyOfExactlyTheLimitIsNotCut()
    {
        await using var server = new LoopbackHttpServer(_ => LoopbackHttpServer.Response(200, "OK", new string('x', 16)));
        using var tools = new ToolHost(new ToolOptions { HttpGet = { AllowedHosts = ["127.0.0.1"], MaxBytes = 16 } });

        var result = await tools.HttpGet.GetAsync($"http://127.0.0.1:{server.Port}/", CancellationToken.None);

        Assert.Equal($"HTTP 200 OK\n{new string('x', 16)}", result);
    }

    [Fact]
    public async Task ARedirectFromAnAllowedHostToADisallowedOneIsRefused()
    {
        var port = 0;
        await using var server = new LoopbackHttpServer(target => target == "/"
            ? LoopbackHttpServer.Response(302, "Found", "", $"Location: http://localhost:{port}/private\r\n")
            : LoopbackHttpServer.Response(200, "OK", "private data"));
        port = server.Port;
        using var tools = new ToolHost(new ToolOptions { HttpGet = { AllowedHosts = ["127.0.0.1"] } });

        var error = await Assert.ThrowsAsync<ToolException>(() => tools.HttpGet.GetAsync($"http://127.0.0.1:{port}/", CancellationToken.None));

        Assert.Contains("not a public address", error.Message, StringComparison.Ordinal);
        Assert.Equal(["GET / HTTP/1.1"], server.RequestLines);
    }

    [Fact]
    public async Task ARedirectBetweenAllowedHostsIsFollowed()
    {
        await using var server = new LoopbackHttpServer(target => target == "/"
            ? LoopbackHttpServer.Response(302, "Found", "", "Location: /next\r\n")
            : LoopbackHttpServer.Response(200, "OK", "arrived"));
        using var tools = new ToolHost(new ToolOptions { HttpGet = { AllowedHosts = ["127.0.0.1"] } });

        var result = await tools.HttpGet.GetAsync($"http://127.0.0.1:{server.Port}/", CancellationToken.None);

        Assert.Equal("HTTP 200 OK\narrived", result);
        Assert.Equal(["GET / HTTP/1.1", "GET /next HTTP/1.1"], server.RequestLines);
    }

    [Fact]
    public async Task ARedirectLoopIsAToolErrorNotAResult()
    {
        await using var server = new LoopbackHttpServer(_ => LoopbackHttpServer.Response(302, "Found", "", "Location: /again\r\n"));
        using var tools = new ToolHost(new ToolOptions { HttpGet = { AllowedHosts = ["127.0.0.1"], MaxRedirects = 3 } });

        var error = await Assert.ThrowsAsync<ToolException>(() => tools.HttpGet.GetAsync($"http://127.0.0.1:{server.Port}/", CancellationToken.None));

        Assert.Contains("came after 3 redirects", error.Message, StringComparison.Ordinal);
        Assert.Equal(4, server.RequestLines.Count);
    }

    [Fact]
    public async Task ARedirectWithRedirectsOffIsAToolError()
    {
        await using var server = new LoopbackHttpServer(_ => LoopbackHttpServer.Response(301, "Moved Permanently", "", "Location: /elsewhere\r\n"));
        using var tools = new ToolHost(new ToolOptions { HttpGet = { AllowedHosts = ["127.0.0.1"], MaxRedirects = 0 } });

        var error = await Assert.ThrowsAsync<ToolException>(() => tools.HttpGet.GetAsync($"http://127.0.0.1:{server.Port}/", CancellationToken.None));

        Assert.Contains("redirects are not followed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAllowlistEntryWithAPortAllowsThatPortOnly()
    {
        await using var allowed = new LoopbackHttpServer(_ => LoopbackHttpServer.Response(200, "OK", "allowed"));
        await using var other = new LoopbackHttpServer(_ => LoopbackHttpServer.Response(200, "OK", "other"));
        using var tools = new ToolHost(new ToolOptions { HttpGet = { AllowedHosts = [$"127.0.0.1:{allowed.Port}"] } });

        var result = await tools.HttpGet.GetAsync($"http://127.0.0.1:{allowed.Port}/", CancellationToken.None);
        var error = await Assert.ThrowsAsync<ToolException>(() => tools.HttpGet.GetAsync($"http://127.0.0.1:{other.Port}/", CancellationToken.None));

        Assert.Equal("HTTP 200 OK\nallowed", result);
        Assert.Contains("not a public address", error.Message, StringComparison.Ordinal);
        Assert.Empty(other.RequestLines);
    }

    [Theory]
    [InlineData("internal.example", "internal.example", 8080, true)]
    [InlineData("INTERNAL.example", "internal.example", 443, true)]
    [InlineData("internal.example:8080", "internal.example", 8080, true)]
    [InlineData("internal.example:8080", "internal.example", 8081, false)]
    [InlineData("internal.example:http", "internal.example", 80, false)]
    [InlineData("10.0.0.5", "10.0.0.5", 22, true)]
    [InlineData("::1", "[::1]", 8080, true)]
    [InlineData("[::1]", "[::1]", 8080, true)]
    [InlineData("[::1]:8080", "[::1]", 8080, true)]
    [InlineData("[::1]:8080", "[::1]", 9090, false)]
    [InlineData("other.example", "internal.example", 80, false)]
    public void AllowlistEntriesNameAHostAndOptionallyAPort(string entry, string host, int port, bool allowed) =>
        Assert.Equal(allowed, PublicAddresses.AllowsEndpoint(entry, host, port));

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("ftp://x")]
    [InlineData("gopher://example.com/")]
    [InlineData("not a url")]
    [InlineData("/relative/path")]
    [InlineData("")]
    public async Task AnythingButAnAbsoluteHttpUrlIsRefused(string url)
    {
        using var tools = new ToolHost(new ToolOptions());

        var error = await Assert.ThrowsAsync<ToolException>(() => tools.HttpGet.GetAsync(url, CancellationToken.None));

        Assert.Contains("is not an absolute http or https URL", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CancellationByTheCallerIsNotReportedAsATimeout()
    {
        var requested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new LoopbackHttpServer(_ =>
        {
            requested.TrySetResult();
            return null;
        });
        using var tools = new ToolHost(new ToolOptions { HttpGet = { AllowedHosts = ["127.0.0.1"] } });
        using var cancel = new CancellationTokenSource();

        var fetch = tools.HttpGet.GetAsync($"http://127.0.0.1:{server.Port}/", cancel.Token);
        await requested.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fetch.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task TheToolReturnsTheBodyThroughTheCatalogToo()
    {
        await using var server = new LoopbackHttpServer(_ => LoopbackHttpServer.Response(200, "OK", "via catalog"));
        using var tools = new ToolHost(new ToolOptions { HttpGet = { AllowedHosts = ["127.0.0.1"] } });
        var context = new ToolContext(new Workspace(Path.GetTempPath()), new ScriptedHuman());

        var result = await tools.CallAsync("http_get", context, new() { ["url"] = $"http://127.0.0.1:{server.Port}/" });

        Assert.Equal("HTTP 200 OK\nvia catalog", result);
    }

    [Fact]
    public async Task AUtf8BodyIsDecoded()
    {
        await using var server = new LoopbackHttpServer(_ => LoopbackHttpServer.Response(200, "OK", "grüße ✓"));
        using var tools = new ToolHost(new ToolOptions { HttpGet = { AllowedHosts = ["127.0.0.1"] } });

        var result = await tools.HttpGet.GetAsync($"http://127.0.0.1:{server.Port}/", CancellationToken.None);

        Assert.Equal("HTTP 200 OK\ngrüße ✓", result);
    }
}
