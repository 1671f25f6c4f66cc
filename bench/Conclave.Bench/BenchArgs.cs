namespace Conclave.Bench;

/// <summary>
/// The bench's command line. For <c>run</c>, <c>--postgres</c> names a PostgreSQL server (an Npgsql connection string
/// of a role that may create databases) to run Conclave on as well, in a fresh database per server that is dropped
/// after it; for <c>serve-conclave</c>, it is that database's connection string. With <c>--redis</c> too, that server
/// runs as an instance of several (events published once stored, fan-out through Redis). <c>--setting KEY=VALUE</c>
/// (repeatable) adds, for <c>run</c>, a second Conclave server on SQLite with those settings beside the shipped one in
/// scenarios 2 and 4: a setting measured against the default in the same run, on the same machine, in turns.
/// </summary>
internal sealed record BenchArgs(
    string Command, int Port, string? DataDir, int DelayMs, bool MemoryStore, bool Smoke, string OutDir, IReadOnlySet<int> Only, string? Postgres, string? Redis,
    IReadOnlyDictionary<string, string> Settings)
{
    /// <summary>Whether scenario <paramref name="number"/> is to run: every one unless <c>--only</c> names some.</summary>
    public bool Runs(int number) => Only.Count == 0 || Only.Contains(number);

    public static BenchArgs Parse(string[] args)
    {
        string Value(string name, string fallback)
        {
            var i = Array.LastIndexOf(args, name); // the last one given wins, so bench.sh's default --out can be overridden
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }

        return new BenchArgs(
            args.Length > 0 ? args[0] : string.Empty,
            int.Parse(Value("--port", "0"), System.Globalization.CultureInfo.InvariantCulture),
            Value("--data", string.Empty) is { Length: > 0 } data ? data : null,
            int.Parse(Value("--delay", "0"), System.Globalization.CultureInfo.InvariantCulture),
            args.Contains("--memory-store"),
            args.Contains("--smoke"),
            Value("--out", Path.Combine("bench", "results")),
            Value("--only", string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries)
                .Select(n => int.Parse(n, System.Globalization.CultureInfo.InvariantCulture)).ToHashSet(),
            Value("--postgres", string.Empty) is { Length: > 0 } postgres ? postgres : null,
            Value("--redis", string.Empty) is { Length: > 0 } redis ? redis : null,
            ParseSettings(args));
    }

    /// <summary>Every <c>--setting KEY=VALUE</c>, in order (a key given twice takes the last value).</summary>
    private static Dictionary<string, string> ParseSettings(string[] args)
    {
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i + 1 < args.Length; i++)
        {
            if (args[i] != "--setting")
            {
                continue;
            }

            var pair = args[i + 1].Split('=', 2);
            if (pair.Length != 2 || pair[0].Length == 0)
            {
                throw new ArgumentException($"--setting takes KEY=VALUE (a Conclave setting, e.g. Conclave:Events:MaxBatchSize=16384), not '{args[i + 1]}'.");
            }

            settings[pair[0]] = pair[1];
        }

        return settings;
    }
}
