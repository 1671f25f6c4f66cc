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
        // 1 and 6: relay throughput, with SQLite and with the bench-only in-memory store, beside the baseline. The three
        // servers run side by side and the measured runs take turns (Conclave, in-memory, baseline, again), so that
        // the machine's own drift (a shared VM's speed moves by half within minutes) falls on all three alike.
        await using var conclave = await ServerUnderTest.StartAsync("conclave", "serve-conclave", 0);
        await using var memory = await ServerUnderTest.StartAsync("conclave-memory", "serve-conclave", 0, memoryStore: true);
        await using var baseline = await ServerUnderTest.StartAsync("baseline", "serve-baseline", 0);
        await using var postgres = args.Postgres is null
            ? null
            : await ServerUnderTest.StartAsync("conclave-postgres", "serve-conclave", 0, postgres: args.Postgres, redis: args.Redis);
        ServerUnderTest[] servers = postgres is null ? [conclave, memory, baseline] : [conclave, memory, baseline, postgres];
        var warmUps = new int[servers.Length];
        for (var i = 0; i < servers.Length; i++)
        {
            warmUps[i] = await Scenarios.WarmUpRelayAsync(servers[i], sizes.RelayWords, sizes.RelayMinWarmUpRuns);
        }

        var runs = servers.Select(_ => new List<(double TokensPerSecond, double BytesPerToken, double CpuPerToken)>()).ToArray();
        for (var round = 0; round < RelayRounds; round++)
        {
            for (var i = 0; i < servers.Length; i++)
            {
                runs[i].Add(await Scenarios.RelayOnceAsync(servers[i], sizes.RelayWords));
            }
        }

        double TokensPerSecond(int i) => Scenarios.Median(runs[i].Select(r => r.TokensPerSecond));
        double BytesPerToken(int i) => Scenarios.Median(runs[i].Select(r => r.BytesPerToken));
        // All the rounds' CPU over all their tokens (each round relays as many): a baseline run takes only a few of the
        // kernel's 10 ms ticks, so one round's figure moves by a tick's share and a median of them by as much.
        double CpuPerToken(int i) => runs[i].Average(r => r.CpuPerToken);
        var (conclaveTps, memoryTps, baselineTps) = (TokensPerSecond(0), TokensPerSecond(1), TokensPerSecond(2));
        var (bytesPerToken, baselineBytes) = (BytesPerToken(0), BytesPerToken(2));
        var (cpuPerToken, baselineCpu) = (CpuPerToken(0), CpuPerToken(2));
        // The rounds' CPU ratios to the baseline's, lowest first ("n/a" where the baseline's round took less than a tick).
        string RoundRatios(int i) => string.Join(", ", runs[i].Zip(runs[2], (c, b) => c.CpuPerToken / b.CpuPerToken).Order()
            .Select(r => double.IsFinite(r) ? r.ToString("F2", CultureInfo.InvariantCulture) : "n/a"));
        notes.Add($"Relay: warm-up runs until the compiler settled: Conclave {warmUps[0]}, with the in-memory store {warmUps[1]}, "
            + $"the baseline {warmUps[2]}. CPU per token, Conclave over baseline, the rounds from lowest to highest: {RoundRatios(0)}.");
        figures.Add(new("1. Relay throughput", "SQLite", $"tokens/s, one session, {sizes.RelayWords} words", "tokens/s",
            conclaveTps, baselineTps, "(measured, no goal)", null));
        figures.Add(new("1b. Server allocation per token", "SQLite", "bytes allocated per relayed token", "B/token",
            bytesPerToken, baselineBytes, "(measured, no goal)", null));
        figures.Add(new("1c. Server CPU per token", "SQLite", "processor time per relayed token (user + kernel)", "us/token",
            cpuPerToken, baselineCpu, "<= 1.5x baseline", cpuPerToken <= 1.5 * baselineCpu));
        figures.Add(new("1c. Server CPU per token", "in-memory store", "processor time per relayed token (user + kernel)", "us/token",
            CpuPerToken(1), baselineCpu, "(measured, no goal)", null));
        if (postgres is not null)
        {
            var on = OnPostgres(args);
            figures.Add(new("1. Relay throughput", on, $"tokens/s, one session, {sizes.RelayWords} words", "tokens/s",
                TokensPerSecond(3), baselineTps, "(measured, no goal)", null));
            figures.Add(new("1c. Server CPU per token", on, "processor time per relayed token (user + kernel)", "us/token",
                CpuPerToken(3), baselineCpu, "<= 1.5x baseline", CpuPerToken(3) <= 1.5 * baselineCpu));
            notes.Add($"Relay on {on}: warm-up runs {warmUps[3]}. CPU per token over the baseline's, the rounds from lowest to highest: {RoundRatios(3)}.");
        }

        figures.Add(new("6. Persistence cost", "SQLite", "relay with SQLite vs in-memory store (baseline column)", "tokens/s",
            conclaveTps, memoryTps, "storage costs <= 20%", conclaveTps >= 0.8 * memoryTps));
    }

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
        (ServerUnderTest Server, string On)[] conclaves = postgres is null ? [(conclave, "SQLite")] : [(conclave, "SQLite"), (postgres, OnPostgres(args))];
        if (args.Runs(2))
        {
            var b2 = await Scenarios.ConcurrencyAsync(baseline, sizes.Sessions, sizes.SessionWords, sizes.FirstTokenRuns, sizes.MinWarmUpBursts, sizes.MaxWarmUpBursts);
            var firstTokens = new List<(string, Latencies)>();
            var lags = new List<(string, Latencies)>();
            foreach (var (server, on) in conclaves)
            {
                var c2 = await Scenarios.ConcurrencyAsync(server, sizes.Sessions, sizes.SessionWords, sizes.FirstTokenRuns, sizes.MinWarmUpBursts, sizes.MaxWarmUpBursts);
                var runs = $"{sizes.Sessions} sessions x {sizes.SessionWords} words at once";
                figures.Add(new("2. First token p99", on, $"{runs}, from the client's send", "ms",
                    c2.FirstToken.P99, b2.FirstToken.P99, "<= 2x baseline", c2.FirstToken.P99 <= 2 * b2.FirstToken.P99));
                figures.Add(new("2. Delivery lag p50", on, $"{runs}, every token, stamp to receive", "ms",
                    c2.Lag.P50, b2.Lag.P50, "(measured, no goal)", null));
                figures.Add(new("2. Delivery lag p99", on, $"{runs}, every token, stamp to receive", "ms",
                    c2.Lag.P99, b2.Lag.P99, "<= 2x baseline", c2.Lag.P99 <= 2 * b2.Lag.P99));
                figures.Add(new("2. Runs completed", on, runs, "runs",
                    c2.Completed, b2.Completed, $"all {sizes.Sessions}", c2.Completed == sizes.Sessions));
                figures.Add(new("2b. Server CPU per token", on, $"{runs}, processor time per token (user + kernel)", "us/token",
                    c2.CpuMicrosecondsPerToken, b2.CpuMicrosecondsPerToken, "(measured, no goal)", null));
                notes.Add($"Scenario 2 on {on}: {c2.Completed}/{sizes.Sessions} runs completed ({c2.Lag.Count} tokens) in {c2.Took.TotalSeconds:F1} s"
                    + (c2.FirstFailure is null ? string.Empty : $" (first failure: {c2.FirstFailure})") + $", after {c2.WarmUpBursts} warm-up bursts.");
                firstTokens.Add(($"Conclave, {on}", c2.FirstToken));
                lags.Add(($"Conclave, {on}", c2.Lag));
            }

            notes.Add($"Scenario 2, baseline: {b2.Completed}/{sizes.Sessions} runs completed in {b2.Took.TotalSeconds:F1} s"
                + (b2.FirstFailure is null ? string.Empty : $" (first failure: {b2.FirstFailure})")
                + $", after {b2.WarmUpBursts} warm-up bursts"
                + $"; at the model's pace alone a run takes {sizes.SessionWords * 10 / 1000.0:F1} s.");
            firstTokens.Add(("baseline", b2.FirstToken));
            lags.Add(("baseline", b2.Lag));
            charts.Add(new("2", $"2. First token from the client's send, {sizes.Sessions} runs at once", firstTokens));
            charts.Add(new("2-lag", $"2. Delivery lag (stamp to receive), every token of {sizes.Sessions} runs", lags));
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

    /// <summary>How the figures name the PostgreSQL server: alone, or as an instance of several.</summary>
    private static string OnPostgres(BenchArgs args) => args.Redis is null ? "PostgreSQL" : "PostgreSQL + Redis";
}
