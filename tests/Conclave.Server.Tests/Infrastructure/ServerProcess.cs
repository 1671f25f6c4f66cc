using System.Text.Json;
using System.Net.WebSockets;
using System.Net.Http.Json;
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

    private ServerProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Uri BaseUri { get; private set; } = null!;

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

    /// <summary>A new session on this server (as the admin), and a socket on it past its <c>connected</c>.</summary>
    public async Task<(TestSocket Socket, string Session)> OpenSessionAsync()
    {
        using var http = new HttpClient { BaseAddress = BaseUri };
        http.DefaultRequestHeaders.Add("X-API-Key", ConclaveTestServer.AdminKey);
        using var response = await http.PostAsJsonAsync("/api/v1/sessions", new { });
        var session = (await response.Content.ReadFromJsonAsync<JsonElement>()).Str("id")!;
        var client = new ClientWebSocket();
        await client.ConnectAsync(new Uri($"ws://{BaseUri.Authority}/api/v1/chat/ws/{session}?api_key={ConclaveTestServer.AdminKey}"), CancellationToken.None);
        var socket = new TestSocket(client);
        await socket.ReceiveAsync();
        return (socket, session);
    }

    public static async Task<ServerProcess> StartAsync(string dataDir, IDictionary<string, string>? environment = null)
    {
        // Port 0, and the port read back from the server's own output: a port found free and released first
        // could be taken meanwhile by another test's listener, which would then answer in our server's place.
        var server = new ServerProcess(Process.Start(StartInfo(dataDir, ["--urls", "http://127.0.0.1:0"], environment))!);
        try
        {
            var listening = await server.WaitForOutputAsync(@"Now listening on: http://127\.0\.0\.1:\d+", TimeSpan.FromSeconds(60));
            server.BaseUri = new Uri(listening["Now listening on: ".Length..]);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs the server's binary with <paramref name="arguments"/> until it exits by itself (a command, or a start that fails).</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(
        string dataDir, IEnumerable<string> arguments, IDictionary<string, string>? environment = null)
    {
        await using var server = new ServerProcess(Process.Start(StartInfo(dataDir, arguments, environment))!);
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            await server._process.WaitForExitAsync(wait.Token);
        }

        return (server.ExitCode, server.Output);
    }

    private static ProcessStartInfo StartInfo(string dataDir, IEnumerable<string> arguments, IDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Conclave.Server.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["Conclave__DataDir"] = dataDir;
        start.Environment["Conclave__Llm__Builtin__TokenDelayMs"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return start;
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

    /// <summary>Sends SIGTERM, as a service manager stopping the server does, and waits for the process to exit.</summary>
    public async Task TerminateAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var wait = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(wait.Token);
    }

    public int ExitCode => _process.ExitCode;

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
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
