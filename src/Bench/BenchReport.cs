using System.Text.Json;
using Spectre.Console;
using Streaming.Bench.Pipeline;

namespace Streaming.Bench;

/// <summary>The figures of one bench run, the ratios the targets are stated in, and whether each target was met.</summary>
sealed record BenchReport(
    DateTimeOffset RanAt,
    string Machine,
    Measurement BareConsumerDrain,
    Measurement BinaryCopy,
    Measurement NaiveBaseline,
    PipelineResult Jobs10k,
    PipelineResult Jobs100k,
    Measurement Rebuild,
    Measurement RebuildFromLog,
    IReadOnlyList<BenchTarget> Targets,
    bool Valid,
    string? InvalidReason)
{
    public static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static BenchReport Create(Measurement drain, Measurement copy, Measurement naive, PipelineResult small, PipelineResult large, Measurement rebuild, Measurement rebuildFromLog)
    {
        var limit = Math.Min(drain.PerSecond, copy.PerSecond);
        var targets = new List<BenchTarget>
        {
            new("ingest vs min(drain, COPY)", small.PerSecond / limit, 0.5, "≥"),
            new("ingest vs naive baseline", small.PerSecond / naive.PerSecond, 10, "≥"),
            new("100k jobs vs 10k jobs throughput", large.PerSecond / small.PerSecond, 0.8, "≥"),
            new("peak RSS with 100k jobs (MiB)", large.PeakRssBytes / 1024.0 / 1024.0, 1024, "<"),
            new("projection rebuild (events/s)", rebuild.PerSecond, 200_000, "≥"),
        };
        var lost = small.Lost + large.Lost;
        return new BenchReport(
            DateTimeOffset.UtcNow,
            $"{Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB",
            drain, copy, naive, small, large, rebuild, rebuildFromLog, targets,
            lost == 0,
            lost == 0 ? null : $"{lost} signals were not stored (lost to the broker's retention): the run is invalid");
    }

    public void Print()
    {
        var table = new Table().AddColumns("measurement", "items", "seconds", "items/s");
        foreach (var m in new[] { BareConsumerDrain, BinaryCopy, NaiveBaseline })
        {
            table.AddRow(m.Name, $"{m.Items:N0}", $"{m.Elapsed.TotalSeconds:0.00}", $"{m.PerSecond:N0}");
        }
        foreach (var p in new[] { Jobs10k, Jobs100k })
        {
            table.AddRow($"ours, {p.Jobs:N0} jobs (stored + projected; {p.Decisions:N0} decisions, peak RSS {p.PeakRssBytes / 1048576:N0} MiB)",
                $"{p.Messages:N0}", $"{p.ProjectionsCurrent.TotalSeconds:0.00}", $"{p.PerSecond:N0}");
        }
        foreach (var m in new[] { Rebuild, RebuildFromLog })
        {
            table.AddRow(m.Name, $"{m.Items:N0}", $"{m.Elapsed.TotalSeconds:0.00}", $"{m.PerSecond:N0}");
        }
        AnsiConsole.Write(table);
        var targets = new Table().AddColumns("target", "measured", "goal", "met");
        foreach (var t in Targets)
        {
            targets.AddRow(t.Name, t.Value >= 1000 ? $"{t.Value:N0}" : $"{t.Value:0.00}", $"{t.Comparison} {t.Goal:#,0.##}", t.Met ? "[green]yes[/]" : "[red]no[/]");
        }
        AnsiConsole.Write(targets);
        if (!Valid)
        {
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(InvalidReason!)}[/]");
        }
    }
}

/// <summary>One of the targets, as a ratio or an absolute figure.</summary>
sealed record BenchTarget(string Name, double Value, double Goal, string Comparison)
{
    public bool Met => Comparison == "<" ? Value < Goal : Value >= Goal;
}
