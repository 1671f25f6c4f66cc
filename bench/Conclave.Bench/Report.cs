using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Conclave.Bench;

/// <summary>A chart of latency percentiles, one line per server, written as <c>scenario-{Key}.png</c>.</summary>
internal sealed record LatencyChart(string Key, string Title, IReadOnlyList<(string Server, Latencies Latencies)> Series);

/// <summary>Writes <c>latest.md</c> and the charts: latency percentiles where a scenario has them, bars for the other figures.</summary>
internal static class Report
{
    public static string Write(string directory, IReadOnlyList<Figure> figures, IReadOnlyList<LatencyChart> charts, IReadOnlyList<string> notes, bool smoke)
    {
        var text = new StringBuilder()
            .AppendLine(smoke ? "# Conclave benchmark (smoke sizes: these figures say nothing about speed)" : "# Conclave benchmark")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}. Servers on core 0, load generator on core 1.")
            .AppendLine()
            .AppendLine("| scenario | Conclave on | measure | Conclave | baseline | ratio | goal | met? |")
            .AppendLine("|---|---|---|---:|---:|---:|---|---|");
        foreach (var f in figures)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {f.Scenario} | {f.Server} | {f.Metric} | {Format(f.Conclave)} {f.Unit} | {(f.Baseline is { } b ? $"{Format(b)} {f.Unit}" : "-")} | {(f.Ratio is { } r ? r.ToString("0.00", CultureInfo.InvariantCulture) : "-")} | {f.Goal} | {(f.Met is { } met ? met ? "yes" : "**no**" : "-")} |");
        }

        foreach (var chart in charts)
        {
            text.AppendLine()
                .AppendLine(CultureInfo.InvariantCulture, $"{chart.Title} (ms):")
                .AppendLine()
                .AppendLine("| server | runs or tokens | " + string.Join(" | ", Latencies.Shown.Select(s => s.Name)) + " |")
                .AppendLine("|---|---:|" + string.Concat(Latencies.Shown.Select(_ => "---:|")));
            foreach (var (server, latencies) in chart.Series)
            {
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {server} | {latencies.Count} | {string.Join(" | ", Latencies.Shown.Select(s => Format(latencies.At(s.P))))} |");
            }
        }

        text.AppendLine();
        foreach (var note in notes)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {note}");
        }

        var markdown = text.ToString();
        File.WriteAllText(Path.Combine(directory, "latest.md"), markdown);
        foreach (var chart in charts)
        {
            PercentileChart(Path.Combine(directory, $"scenario-{chart.Key}.png"), chart);
        }

        foreach (var group in figures.GroupBy(f => f.Scenario.Split(' ')[0].TrimEnd('.')).Where(g => charts.All(c => c.Key != g.Key)))
        {
            BarChart(Path.Combine(directory, $"scenario-{group.Key}.png"), [.. group]);
        }

        return markdown;
    }

    private static void PercentileChart(string path, LatencyChart chart)
    {
        var plot = new ScottPlot.Plot();
        var xs = Enumerable.Range(0, Latencies.Shown.Count).Select(i => (double)i).ToArray();
        var (low, high) = (double.MaxValue, double.MinValue);
        foreach (var (server, latencies) in chart.Series)
        {
            // Log scale: the lines carry log10(ms), the axis labels ms.
            var ys = Latencies.Shown.Select(s => Math.Log10(Math.Max(latencies.At(s.P), MinimumShownMs))).ToArray();
            (low, high) = (Math.Min(low, ys.Min()), Math.Max(high, ys.Max()));
            var line = plot.Add.Scatter(xs, ys, ColorOf(server));
            line.LegendText = server;
            line.LineWidth = 2;
            line.MarkerSize = 8;
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. Latencies.Shown.Select((s, i) => new ScottPlot.Tick(i, s.Name))]);
        ScottPlot.Tick[] ticks = [.. LogTicks(low, high)];
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
        var span = ticks[^1].Position - ticks[0].Position;
        plot.Axes.SetLimits(-0.2, xs[^1] + 0.2, ticks[0].Position - 0.05 * span, ticks[^1].Position + 0.05 * span);
        plot.ShowLegend(ScottPlot.Edge.Right);
        plot.Title(chart.Title);
        plot.YLabel("ms (log scale)");
        plot.XLabel("percentile");
        plot.SavePng(path, 1100, 540);
    }

    /// <summary>Ticks at 1, 2 and 5 times the powers of ten, from one below <paramref name="low"/> to one above <paramref name="high"/> (both log10 ms).</summary>
    private static IEnumerable<ScottPlot.Tick> LogTicks(double low, double high)
    {
        var steps = new List<double>();
        for (var decade = (int)Math.Floor(low); decade <= (int)Math.Ceiling(high); decade++)
        {
            steps.AddRange(new[] { 1.0, 2.0, 5.0 }.Select(m => Math.Log10(m) + decade));
        }

        var from = steps.FindLastIndex(t => t <= low);
        var to = steps.FindIndex(t => t >= high);
        return steps[Math.Max(0, from)..(to < 0 ? steps.Count : to + 1)].Select(t => new ScottPlot.Tick(t, FormatMs(Math.Pow(10, t))));
    }

    // A latency at or under this is drawn at it: a log scale has no zero.
    private const double MinimumShownMs = 0.01;

    private static ScottPlot.Color ColorOf(string server) =>
        server == "baseline" ? ScottPlot.Colors.Gray
        : server.Contains("PostgreSQL", StringComparison.Ordinal) ? ScottPlot.Colors.DarkOrange
        : server.Contains("one event a piece", StringComparison.Ordinal) ? ScottPlot.Colors.LightSteelBlue
        : ScottPlot.Colors.SteelBlue;

    private static void BarChart(string path, IReadOnlyList<Figure> figures)
    {
        var plot = new ScottPlot.Plot();
        var bars = new List<ScottPlot.Bar>();
        var ticks = new List<ScottPlot.Tick>();
        var x = 0.0;
        for (var i = 0; i < figures.Count; i++)
        {
            var f = figures[i];
            bars.Add(new ScottPlot.Bar { Position = x, Value = f.Conclave, FillColor = ColorOf(f.Server), Label = Format(f.Conclave) });
            ticks.Add(new ScottPlot.Tick(x, $"Conclave,\n{f.Server}"));
            x++;
            // A baseline shared by the figure after this one (the same measure on another Conclave) is drawn once, after it.
            var next = i + 1 < figures.Count ? figures[i + 1] : null;
            if (f.Baseline is { } baseline && !(next is not null && next.Metric == f.Metric && next.Baseline == baseline))
            {
                bars.Add(new ScottPlot.Bar { Position = x, Value = baseline, FillColor = ScottPlot.Colors.Gray, Label = Format(baseline) });
                ticks.Add(new ScottPlot.Tick(x, "baseline"));
                x += 2;
            }
        }

        var barPlot = plot.Add.Bars(bars);
        barPlot.ValueLabelStyle.FontSize = 14;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. ticks]);
        plot.Axes.Margins(bottom: 0);
        plot.Title(string.Join(" / ", figures.Select(f => f.Scenario).Distinct()));
        plot.YLabel(figures[0].Unit);
        plot.XLabel(figures[0].Metric + (figures.FirstOrDefault(f => f.Met is not null) is { } goal ? $"  (goal: {goal.Goal})" : string.Empty));
        plot.SavePng(path, 900, 540);
    }

    private static string Format(double value) =>
        double.IsNaN(value) ? "n/a"
        : value >= 100 || value == Math.Floor(value) ? value.ToString("N0", CultureInfo.InvariantCulture)
        : value.ToString("0.00", CultureInfo.InvariantCulture);

    private static string FormatMs(double ms) =>
        ms >= 1 ? ms.ToString("N0", CultureInfo.InvariantCulture) : ms.ToString("0.##", CultureInfo.InvariantCulture);
}
