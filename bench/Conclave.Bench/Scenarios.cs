using System.Diagnostics;
using System.Net.WebSockets;

namespace Conclave.Bench;

/// <summary>One measured figure, Conclave's and the baseline's, with its goal.</summary>
internal sealed record Figure(string Scenario, string Metric, string Unit, double Conclave, double? Baseline, string Goal, bool? Met, bool HigherIsBetter)
{
    public double? Ratio => Baseline is > 0 ? Conclave / Baseline : null;
}

/// <summary>Sizes of a run: the full sizes of the issue, or tiny ones that only prove the bench still works.</summary>
internal sealed record Sizes(int RelayWords, int Sessions, int SessionWords, int IdleSockets, int FirstTokenRuns, TimeSpan RestDuration, int RestConcurrency)
{
    public static Sizes Full { get; } = new(100_000, 1_000, 200, 10_000, 100, TimeSpan.FromSeconds(10), 32);

    public static Sizes Smoke { get; } = new(2_000, 10, 20, 50, 5, TimeSpan.FromSeconds(1), 4);
}

/// <summary>The scenarios of the benchmark; each runs the same client code against a server and returns what it measured.</summary>
internal static class Scenarios
{
    /// <summary>
    /// Scenario 1 and 6, before measuring: runs of the full size on a session of their own (so that measured runs start
    /// with no history, as the baseline's do) until the server's just-in-time compiler has settled. Tiered compilation
    /// recompiles hot methods for several runs (with profile-guided optimization, in the background, after each
    /// method's calls have been counted); that work is the runtime's, paid once, not the server's per token. Returns
    /// how many runs it took.
    /// </summary>
    public static async Task<int> WarmUpRelayAsync(ServerUnderTest server, int words)
    {
        using var client = new BenchClient(server.BaseUri);
        using var socket = await client.ConnectAsync(await client.CreateSessionAsync());
        var compiled = await client.ServerCompiledMethodsAsync();
        var runs = 0;
        while (runs < MaxWarmUpRuns)
        {
            await BenchClient.SendMessageAsync(socket, $"stream {words} words");
            await BenchClient.ReadRunAsync(socket, null);
            runs++;
            await Task.Delay(500);
            var now = await client.ServerCompiledMethodsAsync();
            var settled = now - compiled <= SettledCompilations;
            compiled = now;
            if (settled)
            {
                break;
            }
        }

        await CloseAsync(socket);
        return runs;
    }

    // A warm-up run that compiled at most this many methods found the server's hot paths compiled for good.
    private const int SettledCompilations = 10;

    private const int MaxWarmUpRuns = 30;

    /// <summary>
    /// Scenario 1 and 6, one measured run on a new session, timed from sending the message to receiving
    /// <c>final_answer</c>: tokens per second delivered, server bytes allocated and server processor time per token.
    /// </summary>
    public static async Task<(double TokensPerSecond, double BytesPerToken, double CpuMicrosecondsPerToken)> RelayOnceAsync(ServerUnderTest server, int words)
    {
        using var client = new BenchClient(server.BaseUri);
        using var socket = await client.ConnectAsync(await client.CreateSessionAsync());
        var allocatedBefore = await client.ServerAllocatedBytesAsync();
        var cpuBefore = server.CpuTime();
        var watch = Stopwatch.StartNew();
        await BenchClient.SendMessageAsync(socket, $"stream {words} words");
        var tokens = await BenchClient.ReadRunAsync(socket, null);
        watch.Stop();
        var cpu = server.CpuTime() - cpuBefore;
        var allocated = await client.ServerAllocatedBytesAsync() - allocatedBefore;
        await CloseAsync(socket);
        return (tokens / watch.Elapsed.TotalSeconds, (double)allocated / tokens, cpu.TotalMicroseconds / tokens);
    }

    /// <summary>
    /// Scenario 2: many sessions streaming at once; per-token delay from the server's stamp to the client, how long the
    /// runs took, and the server's processor time per token.
    /// </summary>
    public static async Task<(double P50, double P99, int Completed, int Tokens, TimeSpan Took, double CpuMicrosecondsPerToken)> ConcurrencyAsync(
        ServerUnderTest server, int sessions, int words)
    {
        using var client = new BenchClient(server.BaseUri);
        var sockets = await OpenAsync(client, sessions);
        var delays = new List<double>[sessions];
        var completed = 0;
        var cpuBefore = server.CpuTime();
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(sockets.Select(async (socket, i) =>
        {
            var mine = delays[i] = new List<double>(words);
            await BenchClient.SendMessageAsync(socket, $"stream {words} words");
            await BenchClient.ReadRunAsync(socket, (stamped, received) => mine.Add((received - stamped).TotalMilliseconds));
            Interlocked.Increment(ref completed);
        }));
        watch.Stop();
        var cpu = server.CpuTime() - cpuBefore;
        await Task.WhenAll(sockets.Select(CloseAsync));
        var all = delays.SelectMany(d => d).Order().ToArray();
        return (Percentile(all, 0.50), Percentile(all, 0.99), completed, all.Length, watch.Elapsed, cpu.TotalMicroseconds / Math.Max(1, all.Length));
    }

    public static double Median(IEnumerable<double> values) => Percentile([.. values.Order()], 0.50);

    /// <summary>Scenario 3: sockets that only stay connected; the server's resident memory per socket.</summary>
    public static async Task<double> IdleDensityAsync(ServerUnderTest server, int sockets)
    {
        using var client = new BenchClient(server.BaseUri);
        var sessions = new List<string>();
        for (var i = 0; i < Math.Max(1, sockets / 100); i++)
        {
            sessions.Add(await client.CreateSessionAsync());
        }

        // Both samples after a full, compacting collection: what the sockets hold, not what garbage the collector has
        // not yet reclaimed (which depends on what ran before).
        await client.CollectServerGarbageAsync();
        var before = server.ResidentKiB();
        var open = new List<ClientWebSocket>(sockets);
        using var gate = new SemaphoreSlim(64);
        var connects = Enumerable.Range(0, sockets).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var socket = await client.ConnectAsync(sessions[i % sessions.Count]);
                lock (open)
                {
                    open.Add(socket);
                }
            }
            finally
            {
                gate.Release();
            }
        });
        await Task.WhenAll(connects);
        await Task.Delay(2_000);
        await client.CollectServerGarbageAsync();
        var after = server.ResidentKiB();
        foreach (var socket in open)
        {
            socket.Abort();
            socket.Dispose();
        }

        return (double)(after - before) / sockets;
    }

    /// <summary>Scenario 4: many runs started at once; from the model's first token to its arrival.</summary>
    public static async Task<(double P50, double P99)> FirstTokenAsync(ServerUnderTest server, int runs)
    {
        using var client = new BenchClient(server.BaseUri);
        var sockets = await OpenAsync(client, runs);
        await FirstTokensAsync(sockets); // warm-up: the same burst, not measured, then a pause for tiered compilation
        await Task.Delay(1000);
        var firsts = await FirstTokensAsync(sockets);
        await Task.WhenAll(sockets.Select(CloseAsync));
        Array.Sort(firsts);
        return (Percentile(firsts, 0.50), Percentile(firsts, 0.99));
    }

    /// <summary>Starts a run on every socket at once; each run's delay from its first token's stamp to its arrival.</summary>
    private static async Task<double[]> FirstTokensAsync(IReadOnlyList<ClientWebSocket> sockets)
    {
        var firsts = new double[sockets.Count];
        await Task.WhenAll(sockets.Select(async (socket, i) =>
        {
            var first = true;
            await BenchClient.SendMessageAsync(socket, "stream 3 words");
            await BenchClient.ReadRunAsync(socket, (stamped, received) =>
            {
                if (first)
                {
                    firsts[i] = (received - stamped).TotalMilliseconds;
                    first = false;
                }
            });
        }));
        return firsts;
    }

    /// <summary>Scenario 5: sessions created over REST by several clients at once; per second and p99 latency.</summary>
    public static async Task<(double PerSecond, double P99)> RestAsync(ServerUnderTest server, TimeSpan duration, int concurrency)
    {
        using var client = new BenchClient(server.BaseUri);
        await client.CreateSessionAsync(); // warm-up
        var latencies = new List<double>[concurrency];
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async worker =>
        {
            var mine = latencies[worker] = [];
            while (watch.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                await client.CreateSessionAsync();
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }));
        watch.Stop();
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return (all.Length / watch.Elapsed.TotalSeconds, Percentile(all, 0.99));
    }

    private static async Task<List<ClientWebSocket>> OpenAsync(BenchClient client, int count)
    {
        var sockets = new ClientWebSocket[count];
        using var gate = new SemaphoreSlim(32);
        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                sockets[i] = await client.ConnectAsync(await client.CreateSessionAsync());
            }
            finally
            {
                gate.Release();
            }
        }));
        return [.. sockets];
    }

    private static async Task CloseAsync(ClientWebSocket socket)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }

        socket.Dispose();
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
