using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests.Mcp;

/// <summary>
/// The reference MCP servers from npm that test.sh installs into tests/mcp-servers (CONCLAVE_TEST_MCP_BIN), and how the
/// tests register servers with Conclave.
/// </summary>
internal static class McpTestServers
{
    /// <summary>The folder of the npm servers' programs.</summary>
    public static string BinDirectory
    {
        get
        {
            if (Environment.GetEnvironmentVariable("CONCLAVE_TEST_MCP_BIN") is { Length: > 0 } bin)
            {
                return bin;
            }

            // Run outside test.sh: the folder in the repository, once `npm ci` ran in tests/mcp-servers.
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !Directory.Exists(Path.Combine(dir.FullName, "tests", "mcp-servers")))
            {
                dir = dir.Parent;
            }

            return dir is null
                ? throw new InvalidOperationException("Set CONCLAVE_TEST_MCP_BIN, or run `npm ci` in tests/mcp-servers.")
                : Path.Combine(dir.FullName, "tests", "mcp-servers", "node_modules", ".bin");
        }
    }

    public static string Everything => Program("mcp-server-everything");

    public static string Filesystem => Program("mcp-server-filesystem");

    /// <summary>Registers an MCP server as the caller of <paramref name="http"/>; the response, which the caller disposes.</summary>
    public static Task<HttpResponseMessage> RegisterAsync(HttpClient http, object registration) =>
        http.PostAsJsonAsync("/api/v1/mcp-servers", registration);

    /// <summary>Registers an MCP server and checks it was created.</summary>
    public static async Task<JsonElement> RegisterOkAsync(HttpClient http, object registration)
    {
        using var response = await RegisterAsync(http, registration);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>The tools the caller's agents may use, by name.</summary>
    public static async Task<Dictionary<string, JsonElement>> ToolsAsync(HttpClient http)
    {
        var tools = await http.GetFromJsonAsync<List<JsonElement>>("/api/v1/tools");
        return tools!.ToDictionary(t => t.Str("name")!, t => t);
    }

    /// <summary>server-everything over streamable HTTP on a free loopback port, stopped when disposed.</summary>
    public static async Task<NpmHttpServer> StartEverythingOverHttpAsync()
    {
        var port = FreePort();
        var start = new ProcessStartInfo(Everything, "streamableHttp")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.Environment["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { }; // drained: the server writes a line per request
        process.BeginOutputReadLine();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data?.Contains($"listening on port {port}", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        process.BeginErrorReadLine();
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return new NpmHttpServer(process, new Uri($"http://127.0.0.1:{port}/mcp"));
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Program(string name)
    {
        var path = Path.Combine(BinDirectory, name);
        return File.Exists(path) ? path : throw new InvalidOperationException($"{path} is missing: run `npm ci` in tests/mcp-servers (test.sh does).");
    }
}

/// <summary>An npm MCP server process serving streamable HTTP.</summary>
internal sealed class NpmHttpServer(Process process, Uri endpoint) : IDisposable
{
    public Uri Endpoint { get; } = endpoint;

    public void Dispose()
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // It had ended.
        }

        process.Dispose();
    }
}
