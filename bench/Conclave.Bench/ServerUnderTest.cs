using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Conclave.Bench;

/// <summary>A server the bench started as its own process, pinned to the first core where there are two.</summary>
internal sealed class ServerUnderTest : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string? _dataDir;
    private readonly FreshDatabase? _database;

    // Whether the kernel keeps each thread's schedstat, decided once so that every reading of a server is made alike.
    private readonly bool _schedstat;

    // Each live thread's time on the processor at the last reading (CpuTime), and the time of the threads that ended since.
    private Dictionary<int, long> _threadNanoseconds = [];
    private long _endedThreadsNanoseconds;

    private ServerUnderTest(Process process, Uri baseUri, string? dataDir, FreshDatabase? database, string name)
    {
        _process = process;
        _schedstat = File.Exists($"/proc/{process.Id}/schedstat");
        BaseUri = baseUri;
        _dataDir = dataDir;
        _database = database;
        Name = name;
    }

    public string Name { get; }

    public Uri BaseUri { get; }

    public int Pid => _process.Id;

    public static async Task<ServerUnderTest> StartAsync(
        string name, string mode, int delayMs, bool memoryStore = false, string? postgres = null, string? redis = null,
        IReadOnlyDictionary<string, string>? settings = null)
    {
        var port = FreePort();
        var dataDir = mode == "serve-conclave" ? Directory.CreateTempSubdirectory("conclave-bench-").FullName : null;
        var self = Path.Combine(AppContext.BaseDirectory, "Conclave.Bench.dll");
        var arguments = new List<string> { self, mode, "--port", port.ToString(CultureInfo.InvariantCulture), "--delay", delayMs.ToString(CultureInfo.InvariantCulture) };
        if (dataDir is not null)
        {
            arguments.AddRange(["--data", dataDir]);
        }

        if (memoryStore)
        {
            arguments.Add("--memory-store");
        }

        var database = postgres is null ? null : await FreshDatabase.CreateAsync(postgres);
        if (database is not null)
        {
            arguments.AddRange(["--postgres", database.ConnectionString]);
        }

        if (redis is not null)
        {
            arguments.AddRange(["--redis", redis]);
        }

        var pin = Environment.ProcessorCount > 1 && File.Exists("/usr/bin/taskset");
        var start = new ProcessStartInfo(pin ? "/usr/bin/taskset" : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (pin)
        {
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add("0");
            start.ArgumentList.Add("dotnet");
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Settings beyond the bench's own, as an operator gives them: environment variables (Conclave__Agent__...).
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start)!;
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains($"Now listening on: http://127.0.0.1:{port}", StringComparison.Ordinal) == true)
            {
                listening.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 })
            {
                Console.Error.WriteLine($"[{name}] {e.Data}");
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return new ServerUnderTest(process, new Uri($"http://127.0.0.1:{port}"), dataDir, database, name);
    }

    /// <summary>
    /// The processor time the server has used so far (user and kernel, every thread), as the kernel counts it: each
    /// thread's time on the processor in nanoseconds (<c>/proc/PID/task/TID/schedstat</c>), so that a measured run of
    /// a few tens of milliseconds is not rounded to the 10 ms ticks of <c>/proc/PID/stat</c>. A thread that ended
    /// counts up to this server's last reading of it (the thread pool ends idle threads after 20 s, so between two
    /// readings of one measurement that loses next to nothing). Where the kernel keeps no <c>schedstat</c>, the ticks.
    /// </summary>
    public TimeSpan CpuTime()
    {
        if (!_schedstat)
        {
            return TicksCpuTime();
        }

        var live = new Dictionary<int, long>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{Pid}/task"))
        {
            try
            {
                // The first of schedstat's three numbers: nanoseconds on the processor.
                var schedstat = File.ReadAllText(Path.Combine(task, "schedstat"));
                live[int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture)] =
                    long.Parse(schedstat.AsSpan(0, schedstat.IndexOf(' ')), CultureInfo.InvariantCulture);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // the thread ended while the folder was read; it counts as ended
            }
        }

        foreach (var (thread, nanoseconds) in _threadNanoseconds)
        {
            if (!live.ContainsKey(thread))
            {
                _endedThreadsNanoseconds += nanoseconds;
            }
        }

        _threadNanoseconds = live;
        return TimeSpan.FromTicks((_endedThreadsNanoseconds + live.Values.Sum()) / NanosecondsPerTick);
    }

    private const long NanosecondsPerTick = 100;

    private TimeSpan TicksCpuTime()
    {
        // /proc/PID/stat: fields 14 and 15 (utime, stime) in clock ticks, after the command name in parentheses.
        var stat = File.ReadAllText($"/proc/{Pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / (double)ClockTicksPerSecond);
    }

    // USER_HZ, which Linux fixes at 100 for what /proc reports.
    private const int ClockTicksPerSecond = 100;

    /// <summary>The server's resident memory in KiB (<c>VmRSS</c> in Linux's /proc).</summary>
    public long ResidentKiB()
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        if (_database is not null)
        {
            await _database.DropAsync();
        }

        if (_dataDir is not null)
        {
            try
            {
                Directory.Delete(_dataDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A new, empty database on a PostgreSQL server, for one server under test, dropped after it.</summary>
internal sealed class FreshDatabase
{
    private readonly string _server;
    private readonly string _name;

    private FreshDatabase(string server, string name, string connectionString)
    {
        _server = server;
        _name = name;
        ConnectionString = connectionString;
    }

    /// <summary>The new database's connection string.</summary>
    public string ConnectionString { get; }

    /// <summary>Creates a database on the server <paramref name="server"/> names (a role that may create databases).</summary>
    public static async Task<FreshDatabase> CreateAsync(string server)
    {
        var name = $"conclave_bench_{Guid.NewGuid():N}";
        await ExecuteAsync(server, $"CREATE DATABASE \"{name}\"");
        return new FreshDatabase(server, name, new Npgsql.NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString);
    }

    /// <summary>Drops the database, ending what connections are left to it (the server under test was killed).</summary>
    public async Task DropAsync()
    {
        Npgsql.NpgsqlConnection.ClearAllPools();
        await ExecuteAsync(_server, $"DROP DATABASE IF EXISTS \"{_name}\" WITH (FORCE)");
    }

    private static async Task ExecuteAsync(string server, string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(server);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
