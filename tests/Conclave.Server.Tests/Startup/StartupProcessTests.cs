using System.Net;
using System.Net.Sockets;
using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests.Startup;

/// <summary>Starts and commands of the server's own binary, as an operator runs them.</summary>
public sealed class StartupProcessTests
{
    private const string KeyPattern = @"ck_[A-Za-z0-9_-]{40,}";

    [Fact]
    public async Task AStartWhosePortIsTakenPrintsNoKeyAndTheNextStartPrintsOneAndLogsWhereItServes()
    {
        using var temp = new TempDataDir();
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var (exitCode, output) = await ServerProcess.RunAsync(temp.Path, ["--urls", $"http://127.0.0.1:{port}"]);

        Assert.NotEqual(0, exitCode);
        Assert.DoesNotMatch(KeyPattern, output);
        Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal);

        // Said once, in a line, without a stack trace.
        Assert.Contains($"conclave: Failed to bind to address http://127.0.0.1:{port}: address already in use.", output, StringComparison.Ordinal);
        Assert.Single(output.Split('\n'), line => line.Contains("already in use", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(" at ", output, StringComparison.Ordinal);
        taken.Stop();

        await using var next = await ServerProcess.StartAsync(temp.Path);
        var key = await next.WaitForOutputAsync(KeyPattern);
        Assert.Contains($"Conclave is listening on {next.BaseUri.ToString().TrimEnd('/')}; its data folder is {temp.Path} (storage: Sqlite)", next.Output, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, await KeysStatusAsync(next, key));
    }

    [Fact]
    public async Task ResetAdminKeyPrintsANewKeyThatWorksAndTheOldOneNoLongerDoes()
    {
        using var temp = new TempDataDir();
        string oldKey;
        await using (var first = await ServerProcess.StartAsync(temp.Path))
        {
            oldKey = await first.WaitForOutputAsync(KeyPattern);
            Assert.Equal(HttpStatusCode.OK, await KeysStatusAsync(first, oldKey));

            // Not while a server serves the folder: it would go on accepting the old key.
            var (refusedCode, refused) = await ServerProcess.RunAsync(temp.Path, ["--reset-admin-key"]);
            Assert.Equal(1, refusedCode);
            Assert.Contains("is in use by a running Conclave server", refused, StringComparison.Ordinal);
            Assert.DoesNotMatch(KeyPattern, refused);
        }

        var (exitCode, output) = await ServerProcess.RunAsync(temp.Path, ["--reset-admin-key"]);

        Assert.Equal(0, exitCode);
        var newKey = System.Text.RegularExpressions.Regex.Match(output, KeyPattern).Value;
        Assert.NotEqual("", newKey);
        Assert.NotEqual(oldKey, newKey);
        Assert.DoesNotContain("Now listening", output, StringComparison.Ordinal);

        await using var second = await ServerProcess.StartAsync(temp.Path);
        await second.WaitForOutputAsync("Application started");
        Assert.DoesNotMatch(KeyPattern, second.Output);
        Assert.Equal(HttpStatusCode.OK, await KeysStatusAsync(second, newKey));
        Assert.Equal(HttpStatusCode.Unauthorized, await KeysStatusAsync(second, oldKey));
    }

    [Fact]
    public async Task ResetAdminKeyLeavesAConfiguredAdminKeyAloneAndSaysSo()
    {
        using var temp = new TempDataDir();

        var (exitCode, output) = await ServerProcess.RunAsync(
            temp.Path, ["--reset-admin-key"], new Dictionary<string, string> { ["Conclave__Auth__AdminKey"] = ConclaveTestServer.AdminKey });

        Assert.Equal(1, exitCode);
        Assert.Equal(
            "conclave: Conclave:Auth:AdminKey is set, so the admin key is that setting's value: change the setting instead. No key was changed.",
            output.Trim());
    }

    [Theory]
    [InlineData("Conclave__Llm__Endpoint", "not-a-url", "Conclave:Llm:Endpoint must be an absolute http or https URL, such as http://localhost:11434.")]
    [InlineData("Conclave__Llm__Endpoint", "ftp://models.example.com/", "Conclave:Llm:Endpoint must be an absolute http or https URL, such as http://localhost:11434.")]
    [InlineData("Conclave__Llm__Modle", "llama3.2", "Conclave:Llm:Modle is not a setting; did you mean Conclave:Llm:Model?")]
    [InlineData("Conclave__Modle", "llama3.2", "Conclave:Modle is not a setting; did you mean Conclave:Llm:Model?")]
    [InlineData("Conclave__Teams__MaxTasks", "1000", "Conclave:Teams:MaxTasks must be between 1 and 64; it is 1000.")]
    [InlineData("Conclave__Storage__Provider", "Mysql", "Conclave:Storage:Provider is 'Mysql', which is not one of Sqlite, Postgres.")]
    public async Task ABadSettingStopsTheStartWithOneLineNamingItAndExitCode2(string variable, string value, string problem)
    {
        using var temp = new TempDataDir();

        var (exitCode, output) = await ServerProcess.RunAsync(
            temp.Path, ["--urls", "http://127.0.0.1:0"], new Dictionary<string, string> { [variable] = value });

        Assert.Equal(2, exitCode);
        Assert.Equal($"conclave: {problem}", output.Trim());
    }

    private static async Task<HttpStatusCode> KeysStatusAsync(ServerProcess server, string key)
    {
        using var http = new HttpClient { BaseAddress = server.BaseUri };
        http.DefaultRequestHeaders.Add("X-API-Key", key);
        using var response = await http.GetAsync("/api/v1/api-keys");
        return response.StatusCode;
    }
}
