using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Conclave.Bench;

/// <summary>Runs every scenario against Conclave and the baseline, and writes the table and the charts.</summary>
internal static class BenchRun
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var sizes = args.Smoke ? Sizes.Smoke : Sizes.Full;
        if (Environment.ProcessorCount > 1 && RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
        {
            Process.GetCurrentProcess().ProcessorAffinity = 1 << 1; // the load generator on core 1, servers on core 0
        }

        var figures = new List<Figure>();
        var charts = new List<LatencyChart>();
        var notes = new List<string>();
        Directory.CreateDirectory(args.OutDir);

        if (args.Runs(1) || args.Runs(6))
        {
            await RelayAsync(args, sizes, figures, notes);
        }

        if (new[] { 2, 3, 4, 5 }.Any(args.Runs))
        {
            await AtModelPaceAsync(args, sizes, figures, charts, notes);
        }

        var report = Report.Write(args.OutDir, figures, charts, notes, args.Smoke);
        Console.WriteLine(report);
        return 0;
    }

    private static async Task RelayAsync(BenchArgs args, Sizes sizes, List<Figure> figures, List<string> notes)
    {
        // 1 and 6: relay throughput, with SQLite and with the bench-only in-memory store, beside the baseline; and
        // Conclave sending each of the model's pieces as its own event (no merging), as the baseline does. The servers
        // run side by side and the measured runs take turns (each server once a round), so that the machine's own
        // drift (a shared VM's speed moves by half within minutes) falls on all alike.
        await using var conclave = await ServerUnderTest.StartAsync("conclave", "serve-conclave", 0);
        await using var unmerged = await ServerUnderTest.StartAsync("conclave-unmerged", "serve-conclave", 0, settings: EachPieceAnEvent);
        await using var memory = await ServerUnderTest.StartAsync("conclave-memory", "serve-conclave", 0, memoryStore: true);
        await using var baseline = await ServerUnderTest.StartAsync("baseline", "serve-baseline", 0);
        await using var postgres = args.Postgres is null
            ? null
            : await ServerUnderTest.StartAsync("conclave-postgres", "serve-conclave", 0, postgres: args.Postgres, redis: args.Redis);
        const int Conclave = 0, Unmerged = 1, Memory = 2, Baseline = 3, Postgres = 4;
        ServerUnderTest[] servers = postgres is null ? [conclave, unmerged, memory, baseline] : [conclave, unmerged, memory, baseline, postgres];
        var warmUps = new int[servers.Length];
        for (var i = 0; i < servers.Length; i++)
        {
            warmUps[i] = await Scenarios.WarmUpRelayAsync(servers[i], sizes.RelayWords, sizes.RelayMinWarmUpRuns);
        }

        var runs = await InTurnsAsync(servers, RelayRounds, server => Scenarios.RelayOnceAsync(server, sizes.RelayWords));

        double TokensPerSecond(int i) => Scenarios.Median(runs[i].Select(r => r.TokensPerSecond));
        double BytesPerToken(int i) => Scenarios.Median(runs[i].Select(r => r.BytesPerToken));
        // All the rounds' CPU over all their tokens (each round relays as many): a baseline run takes only a few of the
        // kernel's 10 ms ticks, so one round's figure moves by a tick's share and a median of them by as much.
        double CpuPerToken(int i) => runs[i].Average(r => r.CpuMicrosecondsPerToken);
        double Frames(int i) => Scenarios.Median(runs[i].Select(r => (double)r.Frames));
        var baselineCpu = CpuPerToken(Baseline);
        // The rounds' CPU ratios to the baseline's, lowest first ("n/a" where the baseline's round took less than a tick).
        string RoundRatios(int i) => string.Join(", ", runs[i].Zip(runs[Baseline], (c, b) => c.CpuMicrosecondsPerToken / b.CpuMicrosecondsPerToken).Order()
            .Select(r => double.IsFinite(r) ? r.ToString("F2", CultureInfo.InvariantCulture) : "n/a"));
        notes.Add($"Relay: warm-up runs until the compiler settled: Conclave {warmUps[Conclave]}, one event a piece {warmUps[Unmerged]}, "
            + $"with the in-memory store {warmUps[Memory]}, the baseline {warmUps[Baseline]}. CPU per token, Conclave over baseline, the rounds "
            + $"from lowest to highest: {RoundRatios(Conclave)}; one event a piece: {RoundRatios(Unmerged)}.");
        notes.Add($"Relay: token frames for {sizes.RelayWords} words (median of the rounds): Conclave {Frames(Conclave):F0} "
            + $"(pieces the model had ready merged, up to {MergedChars} characters a frame), one event a piece {Frames(Unmerged):F0}, "
            + $"the baseline {Frames(Baseline):F0}.");
        figures.Add(new("1. Relay throughput", "SQLite", $"tokens/s, one session, {sizes.RelayWords} words", "tokens/s",
            TokensPerSecond(Conclave), TokensPerSecond(Baseline), "(measured, no goal)", null));
        figures.Add(new("1. Relay throughput", "SQLite, one event a piece", $"tokens/s, one session, {sizes.RelayWords} words", "tokens/s",
            TokensPerSecond(Unmerged), TokensPerSecond(Baseline), "(measured, no goal)", null));
        figures.Add(new("1b. Server allocation per token", "SQLite", "bytes allocated per relayed token", "B/token",
            BytesPerToken(Conclave), BytesPerToken(Baseline), "(measured, no goal)", null));
        figures.Add(new("1b. Server allocation per token", "SQLite, one event a piece", "bytes allocated per relayed token", "B/token",
            BytesPerToken(Unmerged), BytesPerToken(Baseline), "(measured, no goal)", null));
        figures.Add(new("1c. Server CPU per token", "SQLite", "processor time per relayed token (user + kernel)", "us/token",
            CpuPerToken(Conclave), baselineCpu, "<= 1.5x baseline", CpuPerToken(Conclave) <= 1.5 * baselineCpu));
        figures.Add(new("1c. Server CPU per token", "SQLite, one event a piece", "processor time per relayed token (user + kernel)", "us/token",
            CpuPerToken(Unmerged), baselineCpu, "(measured, no goal)", null));
        figures.Add(new("1c. Server CPU per token", "in-memory store", "processor time per relayed token (user + kernel)", "us/token",
            CpuPerToken(Memory), baselineCpu, "(measured, no goal)", null));
        if (postgres is not null)
        {
            var on = OnPostgres(args);
            figures.Add(new("1. Relay throughput", on, $"tokens/s, one session, {sizes.RelayWords} words", "tokens/s",
                TokensPerSecond(Postgres), TokensPerSecond(Baseline), "(measured, no goal)", null));
            figures.Add(new("1c. Server CPU per token", on, "processor time per relayed token (user + kernel)", "us/token",
                CpuPerToken(Postgres), baselineCpu, "<= 1.5x baseline", CpuPerToken(Postgres) <= 1.5 * baselineCpu));
            notes.Add($"Relay on {on}: warm-up runs {warmUps[Postgres]}. CPU per token over the baseline's, the rounds from lowest to highest: {RoundRatios(Postgres)}.");
        }

        figures.Add(new("6. Persistence cost", "SQLite", "relay with SQLite vs in-memory store (baseline column)", "tokens/s",
            TokensPerSecond(Conclave), TokensPerSecond(Memory), "storage costs <= 20%", TokensPerSecond(Conclave) >= 0.8 * TokensPerSecond(Memory)));
    }

    // Conclave's default (Conclave:Agent:MaxMergedDeltaChars), named in the report.
    private static readonly int MergedChars = new Conclave.Agents.Runs.AgentOptions().MaxMergedDeltaChars;

    // The setting that sends each of the model's pieces as its own event, as the baseline sends a frame for each word.
    private static readonly Dictionary<string, string> EachPieceAnEvent = new() { ["Conclave:Agent:MaxMergedDeltaChars"] = "0" };

    // Measured relay runs per server; each figure is their median.
    private const int RelayRounds = 5;

    private static async Task AtModelPaceAsync(BenchArgs args, Sizes sizes, List<Figure> figures, List<LatencyChart> charts, List<string> notes)
    {
        // 2, 3, 4 and 5 against servers whose model waits 10 ms between tokens, as a real model does; 2 and 4 on
        // PostgreSQL too when asked.
        await using var conclave = await ServerUnderTest.StartAsync("conclave", "serve-conclave", 10);
        await using var baseline = await ServerUnderTest.StartAsync("baseline", "serve-baseline", 10);
        await using var postgres = args.Postgres is not null && (args.Runs(2) || args.Runs(4))
            ? await ServerUnderTest.StartAsync("conclave-postgres", "serve-conclave", 10, postgres: args.Postgres, redis: args.Redis)
            : null;
        await using var withSettings = args.Settings.Count > 0 && (args.Runs(2) || args.Runs(4))
            ? await ServerUnderTest.StartAsync("conclave-settings", "serve-conclave", 10, settings: args.Settings)
            : null;
        List<(ServerUnderTest Server, string On)> conclaves = [(conclave, "SQLite")];
        if (withSettings is not null)
        {
            conclaves.Add((withSettings, "SQLite, " + string.Join(", ", args.Settings.Select(s => $"{s.Key}={s.Value}"))));
        }

        if (postgres is not null)
        {
            conclaves.Add((postgres, OnPostgres(args)));
        }

        if (args.Runs(2))
        {
            // Each server is warmed up, then the rounds take turns (each server once a round), as the relay's do.
            var servers = conclaves.Select(c => c.Server).Append(baseline).ToList();
            var bursts = new List<int>();
            foreach (var server in servers)
            {
                bursts.Add(await Scenarios.WarmUpConcurrencyAsync(server, sizes.FirstTokenRuns, WarmUpWords(sizes), sizes.MinWarmUpBursts, sizes.MaxWarmUpBursts));
            }

            var rounds = await InTurnsAsync(servers, ConcurrencyRoundCount, server => Scenarios.ConcurrencyOnceAsync(server, sizes.Sessions, sizes.SessionWords));
            var results = servers.Select((_, i) => new ConcurrencyRounds(bursts[i], rounds[i])).ToList();
            var b2 = results[^1];
            var firstTokens = new List<(string, Latencies)>();
            var lags = new List<(string, Latencies)>();
            var runs = $"{sizes.Sessions} sessions x {sizes.SessionWords} words at once";
            var all = sizes.Sessions * ConcurrencyRoundCount;
            for (var i = 0; i < conclaves.Count; i++)
            {
                var (c2, on) = (results[i], conclaves[i].On);
                figures.Add(new("2. First token p99", on, $"{runs}, from the client's send, median round", "ms",
                    c2.FirstToken.P99, b2.FirstToken.P99, "<= 2x baseline", c2.FirstToken.P99 <= 2 * b2.FirstToken.P99));
                figures.Add(new("2. Delivery lag p50", on, $"{runs}, every token frame, stamp to receive, median round", "ms",
                    c2.Lag.P50, b2.Lag.P50, "(measured, no goal)", null));
                figures.Add(new("2. Delivery lag p99", on, $"{runs}, every token frame, stamp to receive, median round", "ms",
                    c2.Lag.P99, b2.Lag.P99, "<= 2x baseline", c2.Lag.P99 <= 2 * b2.Lag.P99));
                figures.Add(new("2. Runs completed", on, $"{runs}, {ConcurrencyRoundCount} rounds", "runs",
                    c2.Completed, b2.Completed, $"all {all}", c2.Completed == all));
                figures.Add(new("2b. Server CPU per token", on, $"{runs}, processor time per token (user + kernel)", "us/token",
                    c2.CpuMicrosecondsPerToken, b2.CpuMicrosecondsPerToken, "(measured, no goal)", null));
                notes.Add(ConcurrencyNote($"Scenario 2 on {on}", c2, all)
                    + $" Lag p99 of the rounds: {c2.P99s(r => r.Lag)} ms (the baseline's: {b2.P99s(r => r.Lag)}); first token p99: {c2.P99s(r => r.FirstToken)} ms"
                    + $" (the baseline's: {b2.P99s(r => r.FirstToken)}).");
                firstTokens.Add(($"Conclave, {on}", c2.FirstToken));
                lags.Add(($"Conclave, {on}", c2.Lag));
            }

            notes.Add(ConcurrencyNote("Scenario 2, baseline", b2, all) + $" At the model's pace alone a run takes {sizes.SessionWords * 10 / 1000.0:F1} s.");
            firstTokens.Add(("baseline", b2.FirstToken));
            lags.Add(("baseline", b2.Lag));
            charts.Add(new("2", $"2. First token from the client's send, {sizes.Sessions} runs at once, median round", firstTokens));
            charts.Add(new("2-lag", $"2. Delivery lag (stamp to receive), every token frame of {sizes.Sessions} runs, median round", lags));
        }

        if (args.Runs(4))
        {
            var (b4, baselineBursts) = await Scenarios.FirstTokenAsync(baseline, sizes.FirstTokenRuns, sizes.MinWarmUpBursts, sizes.MaxWarmUpBursts);
            var series = new List<(string, Latencies)>();
            var warmUps = new List<string>();
            foreach (var (server, on) in conclaves)
            {
                var (c4, bursts) = await Scenarios.FirstTokenAsync(server, sizes.FirstTokenRuns, sizes.MinWarmUpBursts, sizes.MaxWarmUpBursts);
                warmUps.Add($"Conclave on {on} {bursts}");
                var runs = $"{sizes.FirstTokenRuns} runs at once on as many sessions, from the client's send";
                figures.Add(new("4. First token p50", on, runs, "ms", c4.P50, b4.P50, "(measured, no goal)", null));
                figures.Add(new("4. First token p99", on, runs, "ms", c4.P99, b4.P99, "<= 2x baseline + 5 ms", c4.P99 <= 2 * b4.P99 + 5));
                figures.Add(new("4. First token max", on, runs, "ms", c4.Max, b4.Max, "(measured, no goal)", null));
                series.Add(($"Conclave, {on}", c4));
            }

            series.Add(("baseline", b4));
            notes.Add($"Scenario 4: warm-up bursts until the compiler settled: {string.Join(", ", warmUps)}, the baseline {baselineBursts}.");
            charts.Add(new("4", $"4. First token from the client's send, {sizes.FirstTokenRuns} runs at once", series));
        }

        if (args.Runs(5))
        {
            var c5 = await Scenarios.RestAsync(conclave, sizes.RestDuration, sizes.RestConcurrency);
            var b5 = await Scenarios.RestAsync(baseline, sizes.RestDuration, sizes.RestConcurrency);
            figures.Add(new("5. REST sessions/s", "SQLite", $"POST /api/v1/sessions, {sizes.RestConcurrency} clients", "req/s", c5.PerSecond, b5.PerSecond, ">= 2000/s on SQLite", c5.PerSecond >= 2000));
            figures.Add(new("5. REST p99", "SQLite", $"POST /api/v1/sessions, {sizes.RestConcurrency} clients", "ms", c5.P99, b5.P99, "(measured, no goal)", null));
        }

        if (args.Runs(3))
        {
            var c3 = await Scenarios.IdleDensityAsync(conclave, sizes.IdleSockets, sizes.IdleQuiet, sizes.IdleSettle);
            var b3 = await Scenarios.IdleDensityAsync(baseline, sizes.IdleSockets, sizes.IdleQuiet, sizes.IdleSettle);
            figures.Add(new("3. Idle density", "SQLite", $"{sizes.IdleSockets} sockets on one session, server RSS growth, no forced collection", "KiB/socket",
                c3, b3, "<= 1.25x baseline", c3 <= 1.25 * b3));
        }
    }

    /// <summary>
    /// Measures each server <paramref name="rounds"/> times, each server once a round in turn, so that the machine's own
    /// drift falls on all alike; the measurements per server, in the servers' order.
    /// </summary>
    private static async Task<List<T>[]> InTurnsAsync<T>(IReadOnlyList<ServerUnderTest> servers, int rounds, Func<ServerUnderTest, Task<T>> measure)
    {
        var measured = servers.Select(_ => new List<T>(rounds)).ToArray();
        for (var round = 0; round < rounds; round++)
        {
            for (var i = 0; i < servers.Count; i++)
            {
                await QuietAsync(servers);
                measured[i].Add(await measure(servers[i]));
            }
        }

        return measured;
    }

    /// <summary>
    /// Waits until no server is still busy with the last turn (closing its sockets, storing, collecting): each used
    /// less than a tenth of a core over a fifth of a second, or ten seconds passed. The servers share a core, so what one
    /// does after its turn would otherwise run in the next server's.
    /// </summary>
    private static async Task QuietAsync(IReadOnlyList<ServerUnderTest> servers)
    {
        var window = TimeSpan.FromMilliseconds(200);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            var before = servers.Select(s => s.CpuTime()).ToList();
            await Task.Delay(window);
            if (servers.Select((s, i) => s.CpuTime() - before[i]).All(used => used < window / 10))
            {
                return;
            }
        }
    }

    // Measured rounds of scenario 2 per server; each latency is its median round's.
    private const int ConcurrencyRoundCount = 5;

    /// <summary>Words a run of scenario 2's warm-up streams: a tenth of a measured run's, enough to repeat every token's path.</summary>
    private static int WarmUpWords(Sizes sizes) => Math.Max(1, sizes.SessionWords / 10);

    private static string ConcurrencyNote(string what, ConcurrencyRounds rounds, int all) =>
        $"{what}: {rounds.Completed}/{all} runs completed in {ConcurrencyRoundCount} rounds of {rounds.Took} s"
        + (rounds.FirstFailure is null ? string.Empty : $" (first failure: {rounds.FirstFailure})")
        + $", after {rounds.WarmUpBursts} warm-up bursts. The collector: {rounds.Collector}. Thread-pool threads at the rounds' ends: {rounds.PoolThreads}.";

    /// <summary>How the figures name the PostgreSQL server: alone, or as an instance of several.</summary>
    private static string OnPostgres(BenchArgs args) => args.Redis is null ? "PostgreSQL" : "PostgreSQL + Redis";
}
