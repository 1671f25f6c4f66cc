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
        var notes = new List<string>();
        Directory.CreateDirectory(args.OutDir);

        if (args.Runs(1) || args.Runs(6))
        {
            await RelayAsync(args, sizes, figures, notes);
        }

        if (new[] { 2, 3, 4, 5 }.Any(args.Runs))
        {
            await AtModelPaceAsync(args, sizes, figures, notes);
        }

        var report = Report.Write(args.OutDir, figures, notes, args.Smoke);
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
            warmUps[i] = await Scenarios.WarmUpRelayAsync(servers[i], sizes.RelayWords);
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
        double CpuPerToken(int i) => Scenarios.Median(runs[i].Select(r => r.CpuPerToken));
        var (conclaveTps, memoryTps, baselineTps) = (TokensPerSecond(0), TokensPerSecond(1), TokensPerSecond(2));
        var (bytesPerToken, baselineBytes) = (BytesPerToken(0), BytesPerToken(2));
        var (cpuPerToken, baselineCpu) = (CpuPerToken(0), CpuPerToken(2));
        var cpuRatios = runs[0].Zip(runs[2], (c, b) => c.CpuPerToken / b.CpuPerToken).Order().ToArray();
        notes.Add($"Relay: warm-up runs until the compiler settled: Conclave {warmUps[0]}, with the in-memory store {warmUps[1]}, "
            + $"the baseline {warmUps[2]}. CPU per token, Conclave over baseline, round by round: "
            + string.Join(", ", cpuRatios.Select(r => r.ToString("F2", CultureInfo.InvariantCulture))) + ".");
        figures.Add(new("1. Relay throughput", $"tokens/s, one session, {sizes.RelayWords} words", "tokens/s",
            conclaveTps, baselineTps, ">= 50% of baseline", conclaveTps >= 0.5 * baselineTps, HigherIsBetter: true));
        figures.Add(new("1b. Server allocation per token", "bytes allocated per relayed token", "B/token",
            bytesPerToken, baselineBytes, "(measured, no goal)", null, HigherIsBetter: false));
        figures.Add(new("1c. Server CPU per token", "processor time per relayed token (user + kernel)", "us/token",
            cpuPerToken, baselineCpu, "<= 2x baseline", cpuPerToken <= 2 * baselineCpu, HigherIsBetter: false));
        if (postgres is not null)
        {
            var on = OnPostgres(args);
            figures.Add(new("1p. Relay throughput on PostgreSQL", $"tokens/s, one session, {sizes.RelayWords} words, {on}", "tokens/s",
                TokensPerSecond(3), baselineTps, ">= 50% of baseline", TokensPerSecond(3) >= 0.5 * baselineTps, HigherIsBetter: true));
            figures.Add(new("1p. Server CPU per token on PostgreSQL", $"processor time per relayed token, {on}", "us/token",
                CpuPerToken(3), baselineCpu, "<= 2x baseline", CpuPerToken(3) <= 2 * baselineCpu, HigherIsBetter: false));
            notes.Add($"Relay on {on}: warm-up runs {warmUps[3]}.");
        }

        figures.Add(new("6. Persistence cost", "relay with SQLite vs in-memory store", "tokens/s",
            conclaveTps, memoryTps, "storage costs <= 20%", conclaveTps >= 0.8 * memoryTps, HigherIsBetter: true));
    }

    // Measured relay runs per server; each figure is their median.
    private const int RelayRounds = 5;

    private static async Task AtModelPaceAsync(BenchArgs args, Sizes sizes, List<Figure> figures, List<string> notes)
    {
        // 2, 3, 4 and 5 against servers whose model waits 10 ms between tokens, as a real model does.
        await using (var conclave = await ServerUnderTest.StartAsync("conclave", "serve-conclave", 10))
        await using (var baseline = await ServerUnderTest.StartAsync("baseline", "serve-baseline", 10))
        {
            if (args.Runs(2))
            {
                var c2 = await Scenarios.ConcurrencyAsync(conclave, sizes.Sessions, sizes.SessionWords);
                var b2 = await Scenarios.ConcurrencyAsync(baseline, sizes.Sessions, sizes.SessionWords);
                figures.Add(new("2. Concurrency p50", $"{sizes.Sessions} sessions x {sizes.SessionWords} words, stamp to receive", "ms", c2.P50, b2.P50, "(p99 is the goal)", null, HigherIsBetter: false));
                figures.Add(new("2. Concurrency p99", $"{sizes.Sessions} sessions x {sizes.SessionWords} words, stamp to receive", "ms", c2.P99, b2.P99,
                    "p99 <= 5 ms, all runs complete", c2.P99 <= 5 && c2.Completed == sizes.Sessions, HigherIsBetter: false));
                figures.Add(new("2b. Concurrency CPU per token", $"{sizes.Sessions} sessions, processor time per token", "us/token",
                    c2.CpuMicrosecondsPerToken, b2.CpuMicrosecondsPerToken, "(measured, no goal)", null, HigherIsBetter: false));
                notes.Add($"Scenario 2: Conclave completed {c2.Completed}/{sizes.Sessions} runs ({c2.Tokens} tokens) in {c2.Took.TotalSeconds:F1} s; "
                    + $"the baseline {b2.Completed}/{sizes.Sessions} in {b2.Took.TotalSeconds:F1} s (at the model's pace alone, {sizes.SessionWords * 10 / 1000.0:F1} s).");
            }

            if (args.Runs(2) && args.Postgres is not null)
            {
                await using var postgres = await ServerUnderTest.StartAsync("conclave-postgres", "serve-conclave", 10, postgres: args.Postgres, redis: args.Redis);
                var p2 = await Scenarios.ConcurrencyAsync(postgres, sizes.Sessions, sizes.SessionWords);
                var on = OnPostgres(args);
                figures.Add(new("2p. Concurrency p99 on PostgreSQL", $"{sizes.Sessions} sessions x {sizes.SessionWords} words, {on}", "ms", p2.P99, null,
                    "(beside 2.: SQLite and the baseline)", null, HigherIsBetter: false));
                figures.Add(new("2p. Concurrency CPU per token on PostgreSQL", $"{sizes.Sessions} sessions, {on}", "us/token",
                    p2.CpuMicrosecondsPerToken, null, "(measured, no goal)", null, HigherIsBetter: false));
                notes.Add($"Scenario 2 on {on}: p50 {p2.P50:F1} ms, completed {p2.Completed}/{sizes.Sessions} runs in {p2.Took.TotalSeconds:F1} s.");
            }

            if (args.Runs(4))
            {
                var c4 = await Scenarios.FirstTokenAsync(conclave, sizes.FirstTokenRuns);
                var b4 = await Scenarios.FirstTokenAsync(baseline, sizes.FirstTokenRuns);
                figures.Add(new("4. First token p99", $"{sizes.FirstTokenRuns} runs started at once", "ms", c4.P99, b4.P99, "p99 <= 10 ms", c4.P99 <= 10, HigherIsBetter: false));
            }

            if (args.Runs(5))
            {
                var c5 = await Scenarios.RestAsync(conclave, sizes.RestDuration, sizes.RestConcurrency);
                var b5 = await Scenarios.RestAsync(baseline, sizes.RestDuration, sizes.RestConcurrency);
                figures.Add(new("5. REST sessions/s", $"POST /api/v1/sessions, {sizes.RestConcurrency} clients", "req/s", c5.PerSecond, b5.PerSecond, ">= 2000/s on SQLite", c5.PerSecond >= 2000, HigherIsBetter: true));
                figures.Add(new("5. REST p99", $"POST /api/v1/sessions, {sizes.RestConcurrency} clients", "ms", c5.P99, b5.P99, "(measured, no goal)", null, HigherIsBetter: false));
            }

            if (args.Runs(3))
            {
                var c3 = await Scenarios.IdleDensityAsync(conclave, sizes.IdleSockets);
                var b3 = await Scenarios.IdleDensityAsync(baseline, sizes.IdleSockets);
                figures.Add(new("3. Idle density", $"{sizes.IdleSockets} connected sockets, server RSS growth", "KiB/socket", c3, b3, "<= 20 KiB/socket", c3 <= 20, HigherIsBetter: false));
            }
        }
    }

    /// <summary>How the figures name the PostgreSQL server: alone, or as an instance of several.</summary>
    private static string OnPostgres(BenchArgs args) => args.Redis is null ? "PostgreSQL" : "PostgreSQL, as an instance of several (Redis)";
}
