using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;

namespace Conclave.Bench;

/// <summary>
/// One measured figure of a Conclave server (<paramref name="Server"/> names its storage) beside the baseline's, with its
/// goal and whether it is met (null: measured, no goal).
/// </summary>
internal sealed record Figure(string Scenario, string Server, string Metric, string Unit, double Conclave, double? Baseline, string Goal, bool? Met)
{
    public double? Ratio => Baseline is > 0 ? Conclave / Baseline : null;
}

/// <summary>Latencies of one server in one scenario, in milliseconds, sorted.</summary>
internal sealed class Latencies(IEnumerable<double> milliseconds)
{
    /// <summary>The percentiles the report and the charts show, with their names.</summary>
    public static IReadOnlyList<(string Name, double P)> Shown { get; } = [("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("p99.9", 0.999), ("max", 1.0)];

    private readonly double[] _sorted = [.. milliseconds.Order()];

    public int Count => _sorted.Length;

    public double P50 => At(0.50);

    public double P99 => At(0.99);

    public double Max => At(1.0);

    public double At(double p) => Scenarios.Percentile(_sorted, p);
}

/// <summary>What one relay run measured on one server.</summary>
internal sealed record RelayRun(double TokensPerSecond, double BytesPerToken, double CpuMicrosecondsPerToken, int Frames);

/// <summary>
/// What one round of scenario 2 measured on one server: its processor time, the model's tokens delivered, and the
/// server's thread-pool threads at its end.
/// </summary>
internal sealed record ConcurrencyRound(
    Latencies FirstToken, Latencies Lag, int Completed, string? FirstFailure, TimeSpan Took, TimeSpan Cpu, long Tokens, CollectorCounts Collector,
    int PoolThreads);

/// <summary>
/// Scenario 2's rounds on one server. A latency is the median round's (the round whose p99 of it is the median of the
/// rounds'), all its percentiles from that round: one round's tail moves with the machine (a shared VM), and a
/// median of rounds taken in turn with the other servers does not follow one bad moment.
/// </summary>
internal sealed class ConcurrencyRounds(int warmUpBursts, IReadOnlyList<ConcurrencyRound> rounds)
{
    public int WarmUpBursts => warmUpBursts;

    public Latencies FirstToken => MedianRound(r => r.FirstToken);

    public Latencies Lag => MedianRound(r => r.Lag);

    /// <summary>Runs completed in all the rounds.</summary>
    public int Completed => rounds.Sum(r => r.Completed);

    public string? FirstFailure => rounds.Select(r => r.FirstFailure).FirstOrDefault(f => f is not null);

    /// <summary>All the rounds' processor time over all their tokens.</summary>
    public double CpuMicrosecondsPerToken => rounds.Sum(r => r.Cpu.TotalMicroseconds) / Math.Max(1, rounds.Sum(r => r.Tokens));

    /// <summary>What the server's garbage collector did in all the rounds, and its pauses' share of their time.</summary>
    public string Collector
    {
        get
        {
            var gc = rounds.Select(r => r.Collector).Aggregate((a, b) => a + b);
            var took = rounds.Sum(r => r.Took.TotalMilliseconds);
            return string.Create(CultureInfo.InvariantCulture,
                $"{gc.Gen0} collections ({gc.Gen1} of gen1, {gc.Gen2} of gen2), {gc.PausedMilliseconds:F0} ms paused, {100 * gc.PausedMilliseconds / took:F1}% of the rounds' time");
        }
    }

    /// <summary>The server's thread-pool threads at the end of each round, as the report lists them.</summary>
    public string PoolThreads => string.Join(", ", rounds.Select(r => r.PoolThreads));

    /// <summary>How long each round took, in seconds, as the report lists them.</summary>
    public string Took => string.Join(", ", rounds.Select(r => r.Took.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)));

    /// <summary>The rounds' p99s of a latency, lowest first, as the report lists them.</summary>
    public string P99s(Func<ConcurrencyRound, Latencies> latency) =>
        string.Join(", ", rounds.Select(r => latency(r).P99).Order().Select(p => p.ToString("F1", CultureInfo.InvariantCulture)));

    private Latencies MedianRound(Func<ConcurrencyRound, Latencies> latency) =>
        rounds.Select(latency).OrderBy(l => l.P99).ElementAt((rounds.Count - 1) / 2);
}

/// <summary>Sizes of a run: the full sizes of the issue, or tiny ones that only prove the bench still works.</summary>
internal sealed record Sizes(
    int RelayWords, int RelayMinWarmUpRuns, int Sessions, int SessionWords, int IdleSockets, TimeSpan IdleQuiet, TimeSpan IdleSettle, int FirstTokenRuns, int MinWarmUpBursts, int MaxWarmUpBursts, TimeSpan RestDuration, int RestConcurrency)
{
    public static Sizes Full { get; } = new(100_000, 60, 1_000, 200, 10_000, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(5), 100, 20, 40, TimeSpan.FromSeconds(10), 32);

    public static Sizes Smoke { get; } = new(2_000, 1, 10, 20, 50, TimeSpan.FromSeconds(0.2), TimeSpan.FromSeconds(0.5), 5, 1, 2, TimeSpan.FromSeconds(1), 4);
}

/// <summary>The scenarios of the benchmark; each runs the same client code against a server and returns what it measured.</summary>
internal static class Scenarios
{
    /// <summary>
    /// Scenario 1 and 6, before measuring: the measured run (<see cref="RelayOnceAsync"/>, each on a new session, its
    /// figures left unused) until the server's just-in-time compiler has settled: at least <paramref name="minRuns"/>,
    /// then until three in a row compiled next to nothing. Tiered compilation with profile-guided optimization recompiles
    /// a method twice, in the background: an instrumented version once it has been called 30 times, the optimized one
    /// after 30 calls more; and a run's own code (its start, its records, its end) is called once a run. Fewer runs than
    /// that leave it compiling in waves through the measured runs, on the server's processor time. That work is the
    /// runtime's, paid once, not the server's per token. Returns how many runs it took.
    /// </summary>
    public static async Task<int> WarmUpRelayAsync(ServerUnderTest server, int words, int minRuns)
    {
        using var client = new BenchClient(server.BaseUri);
        return await UntilCompilerSettlesAsync(
            client,
            () => RelayOnceAsync(server, words),
            TimeSpan.FromMilliseconds(500),
            minRuns,
            quietRounds: 3,
            MaxWarmUpRuns);
    }

    /// <summary>
    /// Runs <paramref name="round"/>, each followed by <paramref name="pause"/>: at least <paramref name="minRounds"/>
    /// times, then until <paramref name="quietRounds"/> rounds in a row (with their pauses) each compiled at most
    /// <see cref="SettledCompilations"/> methods in the server (<c>JitInfo.GetCompiledMethodCount</c>), at most
    /// <paramref name="maxRounds"/> times. Returns how many rounds ran.
    /// </summary>
    private static async Task<int> UntilCompilerSettlesAsync(
        BenchClient client, Func<Task> round, TimeSpan pause, int minRounds, int quietRounds, int maxRounds)
    {
        var compiled = await client.ServerCompiledMethodsAsync();
        var rounds = 0;
        var quiet = 0;
        while (rounds < minRounds || (rounds < maxRounds && quiet < quietRounds))
        {
            await round();
            rounds++;
            await Task.Delay(pause);
            var now = await client.ServerCompiledMethodsAsync();
            quiet = now - compiled <= SettledCompilations ? quiet + 1 : 0;
            compiled = now;
        }

        return rounds;
    }

    // A warm-up round that compiled at most this many methods found the server's hot paths compiled, for now.
    private const int SettledCompilations = 10;

    private const int MaxWarmUpRuns = 100;

    /// <summary>
    /// Scenario 1 and 6, one measured run on a new session, timed from sending the message to receiving
    /// <c>final_answer</c>: tokens per second delivered, server bytes allocated and server processor time per token (the
    /// model's tokens, which a server may send several to a frame), and the token frames it took.
    /// </summary>
    public static async Task<RelayRun> RelayOnceAsync(ServerUnderTest server, int words)
    {
        using var client = new BenchClient(server.BaseUri);
        using var socket = await client.ConnectAsync(await client.CreateSessionAsync());
        var allocatedBefore = await client.ServerAllocatedBytesAsync();
        var cpuBefore = server.CpuTime();
        var watch = Stopwatch.StartNew();
        await BenchClient.SendMessageAsync(socket, $"stream {words} words");
        var read = await BenchClient.ReadRunAsync(socket, null);
        watch.Stop();
        var cpu = server.CpuTime() - cpuBefore;
        var allocated = await client.ServerAllocatedBytesAsync() - allocatedBefore;
        await CloseAsync(socket);
        if (read.OutputTokens != words)
        {
            throw new InvalidOperationException($"{server.Name} relayed {read.OutputTokens} tokens of {words}.");
        }

        var tokens = (double)read.OutputTokens;
        return new RelayRun(tokens / watch.Elapsed.TotalSeconds, allocated / tokens, cpu.TotalMicroseconds / tokens, read.Frames);
    }

    /// <summary>
    /// Scenario 2's warm-up: bursts shaped as a round is, on a smaller scale (<see cref="StreamOnNewSessionsAsync"/>);
    /// returns how many bursts it took.
    /// </summary>
    public static async Task<int> WarmUpConcurrencyAsync(ServerUnderTest server, int warmUpRuns, int words, int minWarmUpBursts, int maxWarmUpBursts)
    {
        using var client = new BenchClient(server.BaseUri);
        return await UntilCompilerSettlesAsync(
            client, () => StreamOnNewSessionsAsync(client, warmUpRuns, words), TimeSpan.FromSeconds(1), minWarmUpBursts, QuietBurstsToSettle, maxWarmUpBursts);
    }

    /// <summary>
    /// One warm-up burst of scenario 2: what a round does, with fewer sessions and words. A round opens every one of its
    /// sessions and sockets anew, and a burst does too: bursts on sessions opened once left the server's session and
    /// socket code (the REST call, authentication, the store's insert, the connected frame) called only a hundred
    /// times, and the tiered compiler promoted it, a thousand methods and more, in the first measured rounds.
    /// </summary>
    private static async Task StreamOnNewSessionsAsync(BenchClient client, int sessions, int words)
    {
        var sockets = await OpenAsync(client, sessions);
        await FirstTokensAsync(sockets, words);
        await Task.WhenAll(sockets.Select(CloseAsync));
    }

    /// <summary>
    /// One round of scenario 2: many sessions streaming at once, on new sessions. Each run's first token from the client's
    /// send, every token's delivery lag (stamp to receive), how many runs completed, how long they took, the server's
    /// processor time and the model's tokens delivered.
    /// </summary>
    public static async Task<ConcurrencyRound> ConcurrencyOnceAsync(ServerUnderTest server, int sessions, int words)
    {
        using var client = new BenchClient(server.BaseUri);
        var sockets = await OpenAsync(client, sessions);
        var firsts = new double[sessions];
        var lags = new List<double>[sessions];
        var completed = 0;
        var tokens = 0L;
        string? firstFailure = null;
        var collectorBefore = await client.ServerCollectorAsync();
        var cpuBefore = server.CpuTime();
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(sockets.Select(async (socket, i) =>
        {
            var mine = lags[i] = new List<double>(words);
            firsts[i] = double.NaN;
            try
            {
                var sentAt = await BenchClient.SendMessageAsync(socket, $"stream {words} words");
                var read = await BenchClient.ReadRunAsync(socket, token =>
                {
                    if (mine.Count == 0)
                    {
                        firsts[i] = token.MillisecondsSince(sentAt);
                    }

                    mine.Add(token.LagMilliseconds);
                });
                Interlocked.Add(ref tokens, read.OutputTokens);
                Interlocked.Increment(ref completed);
            }
            catch (Exception ex) when (ex is WebSocketException or InvalidOperationException)
            {
                Interlocked.CompareExchange(ref firstFailure, ex.Message, null);
            }
        }));
        watch.Stop();
        var cpu = server.CpuTime() - cpuBefore;
        var collector = await client.ServerCollectorAsync() - collectorBefore;
        var poolThreads = await client.ServerPoolThreadsAsync();
        await Task.WhenAll(sockets.Select(CloseAsync));
        return new ConcurrencyRound(
            new Latencies(firsts.Where(f => !double.IsNaN(f))), new Latencies(lags.SelectMany(l => l)), completed, firstFailure, watch.Elapsed,
            cpu, tokens, collector, poolThreads);
    }

    public static double Median(IEnumerable<double> values) => Percentile([.. values.Order()], 0.50);

    /// <summary>
    /// Scenario 3: sockets that only stay connected, all on one session; the growth of the server's resident memory per
    /// socket. Sampled after <paramref name="quiet"/> with nothing running, then <paramref name="settle"/> after the
    /// last socket is open, with no collection forced: what an operator's monitor shows.
    /// </summary>
    public static async Task<double> IdleDensityAsync(ServerUnderTest server, int sockets, TimeSpan quiet, TimeSpan settle)
    {
        using var client = new BenchClient(server.BaseUri);
        var session = await client.CreateSessionAsync();
        await Task.Delay(quiet);
        var before = server.ResidentKiB();
        var open = new List<ClientWebSocket>(sockets);
        using var gate = new SemaphoreSlim(64);
        var connects = Enumerable.Range(0, sockets).Select(async _ =>
        {
            await gate.WaitAsync();
            try
            {
                var socket = await client.ConnectAsync(session);
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
        await Task.Delay(settle);
        var after = server.ResidentKiB();
        foreach (var socket in open)
        {
            socket.Abort();
            socket.Dispose();
        }

        return (double)(after - before) / sockets;
    }

    /// <summary>
    /// Scenario 4: runs started at once on as many sessions, after warm-up bursts on the same sessions
    /// (<see cref="WarmUpBurstsAsync"/>); each run's first token from the client's send, and how many warm-up bursts it took.
    /// </summary>
    public static async Task<(Latencies FirstToken, int WarmUpBursts)> FirstTokenAsync(ServerUnderTest server, int runs, int minWarmUpBursts, int maxWarmUpBursts)
    {
        using var client = new BenchClient(server.BaseUri);
        var sockets = await OpenAsync(client, runs);
        var bursts = await WarmUpBurstsAsync(client, sockets, minWarmUpBursts, maxWarmUpBursts);
        var firsts = await FirstTokensAsync(sockets, ShortRunWords);
        await Task.WhenAll(sockets.Select(CloseAsync));
        return (new Latencies(firsts), bursts);
    }

    /// <summary>
    /// Unmeasured bursts of short runs on <paramref name="sockets"/>, each followed by a one-second pause: at least
    /// <paramref name="minBursts"/>, then until the server's just-in-time compiler has settled (three bursts in a row,
    /// with their pauses, compiled at most <see cref="SettledCompilations"/> methods each), at most
    /// <paramref name="maxBursts"/>. A burst of new runs goes through far more of Conclave's code than a stream does
    /// (storage, skills, history, the run's setup), and tiered compilation promotes it in steps of hundreds to
    /// thousands of methods every few bursts for twenty or thirty bursts, with quiet bursts between: a few quiet bursts
    /// early on say little. Returns how many bursts it took.
    /// </summary>
    private static Task<int> WarmUpBurstsAsync(BenchClient client, IReadOnlyList<ClientWebSocket> sockets, int minBursts, int maxBursts) =>
        UntilCompilerSettlesAsync(client, () => FirstTokensAsync(sockets, ShortRunWords), TimeSpan.FromSeconds(1), minBursts, QuietBurstsToSettle, maxBursts);

    private const int QuietBurstsToSettle = 3;

    // Words of scenario 4's runs and warm-up bursts: enough for a first token, over soon.
    private const int ShortRunWords = 3;

    /// <summary>
    /// Starts a run of <paramref name="words"/> on every socket at once and reads each to its end; each run's first token,
    /// from the client's send to its arrival, in ms.
    /// </summary>
    private static async Task<double[]> FirstTokensAsync(IReadOnlyList<ClientWebSocket> sockets, int words)
    {
        var firsts = new double[sockets.Count];
        await Task.WhenAll(sockets.Select(async (socket, i) =>
        {
            var first = true;
            var sentAt = await BenchClient.SendMessageAsync(socket, $"stream {words} words");
            await BenchClient.ReadRunAsync(socket, token =>
            {
                if (first)
                {
                    firsts[i] = token.MillisecondsSince(sentAt);
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

    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
