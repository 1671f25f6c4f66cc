using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Conclave.Server.Tests.Infrastructure;

/// <summary>The server as its own process (<c>dotnet Conclave.Server.dll</c>), for what only a process can show: being killed, printing to the console.</summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServerProcess(Process process, Uri baseUri)
    {
        _process = process;
        BaseUri = baseUri;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Uri BaseUri { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<ServerProcess> StartAsync(string dataDir, IDictionary<string, string>? environment = null)
    {
        // The free port is only free when picked: another test may take it first, so try again on a clash.
        for (var attempt = 1; ; attempt++)
        {
            var server = Launch(dataDir, environment);
            if (await server.WaitUntilHealthyAsync())
            {
                return server;
            }

            await server.DisposeAsync();
            if (attempt == 3 || !server.Output.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"The server did not start:\n{server.Output}");
            }
        }
    }

    private static ServerProcess Launch(string dataDir, IDictionary<string, string>? environment)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "Conclave.Server.dll"), "--urls", $"http://127.0.0.1:{port}" },
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["Conclave__DataDir"] = dataDir;
        start.Environment["Conclave__Llm__Builtin__TokenDelayMs"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return new ServerProcess(Process.Start(start)!, new Uri($"http://127.0.0.1:{port}"));
    }

    // Our own process must say it listens: a /healthz answer could come from another test's server on a reused port.
    private async Task<bool> WaitUntilHealthyAsync()
    {
        var listening = $"Now listening on: {BaseUri.GetLeftPart(UriPartial.Authority)}";
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            if (Output.Contains(listening, StringComparison.Ordinal))
            {
                return true;
            }

            await Task.Delay(50);
        }

        return false;
    }

    /// <summary>Waits until the output has a match of <paramref name="pattern"/> (stdout is read in the background) and returns it.</summary>
    public async Task<string> WaitForOutputAsync(string pattern, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var match = System.Text.RegularExpressions.Regex.Match(Output, pattern);
            if (match.Success)
            {
                return match.Value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No '{pattern}' in the server's output:\n{Output}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Kills the process at once, as a crash or an OOM kill would.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
