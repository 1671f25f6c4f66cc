using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Conclave.Bench;

/// <summary>Writes <c>latest.md</c> and one PNG chart per scenario.</summary>
internal static class Report
{
    public static string Write(string directory, IReadOnlyList<Figure> figures, IReadOnlyList<string> notes, bool smoke)
    {
        var text = new StringBuilder()
            .AppendLine(smoke ? "# Conclave benchmark (smoke sizes: these figures say nothing about speed)" : "# Conclave benchmark")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}. Servers on core 0, load generator on core 1.")
            .AppendLine()
            .AppendLine("| scenario | measure | Conclave | baseline | ratio | goal | met? |")
            .AppendLine("|---|---|---:|---:|---:|---|---|");
        foreach (var f in figures)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {f.Scenario} | {f.Metric} | {Format(f.Conclave)} {f.Unit} | {(f.Baseline is { } b ? $"{Format(b)} {f.Unit}" : "-")} | {(f.Ratio is { } r ? r.ToString("0.00", CultureInfo.InvariantCulture) : "-")} | {f.Goal} | {(f.Met is { } met ? met ? "yes" : "**no**" : "-")} |");
        }

        text.AppendLine();
        foreach (var note in notes)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {note}");
        }

        var markdown = text.ToString();
        File.WriteAllText(Path.Combine(directory, "latest.md"), markdown);
        foreach (var group in figures.GroupBy(f => f.Scenario.Split(' ')[0].TrimEnd('.')))
        {
            Chart(Path.Combine(directory, $"scenario-{group.Key}.png"), [.. group]);
        }

        return markdown;
    }

    private static void Chart(string path, IReadOnlyList<Figure> figures)
    {
        var plot = new ScottPlot.Plot();
        var bars = new List<ScottPlot.Bar>();
        var ticks = new List<ScottPlot.Tick>();
        for (var i = 0; i < figures.Count; i++)
        {
            var f = figures[i];
            var x = i * 3;
            bars.Add(new ScottPlot.Bar { Position = x, Value = f.Conclave, FillColor = ScottPlot.Colors.SteelBlue, Label = Format(f.Conclave) });
            ticks.Add(new ScottPlot.Tick(x, "Conclave"));
            if (f.Baseline is { } baseline)
            {
                bars.Add(new ScottPlot.Bar { Position = x + 1, Value = baseline, FillColor = ScottPlot.Colors.Gray, Label = Format(baseline) });
                ticks.Add(new ScottPlot.Tick(x + 1, "baseline"));
            }
        }

        var barPlot = plot.Add.Bars(bars);
        barPlot.ValueLabelStyle.FontSize = 14;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. ticks]);
        plot.Axes.Margins(bottom: 0);
        plot.Title(string.Join(" / ", figures.Select(f => f.Scenario)));
        plot.YLabel(figures[0].Unit);
        plot.XLabel(figures[0].Metric + (figures.FirstOrDefault(f => f.Met is not null) is { } goal ? $"  (goal: {goal.Goal})" : string.Empty));
        plot.SavePng(path, 900, 540);
    }

    private static string Format(double value) =>
        double.IsNaN(value) ? "n/a" : value >= 100 ? value.ToString("N0", CultureInfo.InvariantCulture) : value.ToString("0.00", CultureInfo.InvariantCulture);
}
