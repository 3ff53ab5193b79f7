using System.Text.Json;
using Spectre.Console;
using Streaming.Bench.Cpu;
using Streaming.Bench.Latency;
using Streaming.Bench.MartenPeer;
using Streaming.Bench.Pipeline;

namespace Streaming.Bench;

/// <summary>The figures of one bench run, the ratios the targets are stated in, and whether each target was met.</summary>
public sealed record BenchReport(
    int Run,
    DateTimeOffset RanAt,
    TimeSpan Elapsed,
    Measurement BareConsumerDrain,
    Measurement BinaryCopy,
    Measurement BinaryCopyAsFiled,
    Measurement NaiveBaseline,
    PipelineResult Jobs10k,
    PipelineResult? Jobs100k,
    Measurement Rebuild,
    Measurement RebuildFromLog,
    MartenReport? Marten,
    IReadOnlyList<BenchTarget> Targets,
    bool Valid,
    string? InvalidReason)
{
    public static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public double Limit => Math.Min(BareConsumerDrain.PerSecond, BinaryCopy.PerSecond);

    /// <summary>The limit issue 19's throughput target is stated against: the COPY into <c>es.events</c> as the issue found it.</summary>
    public double LimitAsFiled => Math.Min(BareConsumerDrain.PerSecond, BinaryCopyAsFiled.PerSecond);

    public long PeakRssBytes => Math.Max(Jobs10k.PeakRssBytes, Jobs100k?.PeakRssBytes ?? 0);

    public static BenchReport Create(int run, DateTimeOffset ranAt, TimeSpan elapsed, Measurement drain, Measurement copy, Measurement copyAsFiled,
        Measurement naive, PipelineResult small, PipelineResult? large, Measurement rebuild, Measurement rebuildFromLog, MartenReport? marten)
    {
        var targets = new List<BenchTarget>
        {
            new("ingest end to end vs min(drain, COPY into es.events as issue 19 found it)",
                small.PerSecond / Math.Min(drain.PerSecond, copyAsFiled.PerSecond), 0.35, "≥", 0.5),
            new("ingest end to end vs min(drain, COPY into es.events as it is now)", small.PerSecond / Math.Min(drain.PerSecond, copy.PerSecond), 0.35, "≥", 0.5),
        };
        if (marten is not null)
        {
            targets.Add(new("ingest end to end vs the Marten peer's end to end", small.PerSecond / marten.EndToEnd.PerSecond, 3, "≥"));
        }
        targets.Add(new("ingest end to end vs naive baseline", small.PerSecond / naive.PerSecond, 10, "≥"));
        targets.Add(new("projection rebuild (events/s)", rebuild.PerSecond, 200_000, "≥"));
        if (marten is not null)
        {
            targets.Add(new("projection rebuild vs the Marten daemon's rebuild", rebuild.PerSecond / marten.Rebuild.PerSecond, 10, "≥"));
        }
        if (large is not null)
        {
            targets.Add(new("100k jobs vs 10k jobs throughput", large.PerSecond / small.PerSecond, 0.8, "≥"));
        }
        targets.Add(new("all-in-one peak RSS (MiB)", Math.Max(small.PeakRssBytes, large?.PeakRssBytes ?? 0) / 1048576.0, 1024, "<"));

        var problems = new List<string>();
        foreach (var pipeline in new[] { small, large }.OfType<PipelineResult>().Where(p => p.Lost != 0))
        {
            problems.Add($"{pipeline.Lost} of {pipeline.Name}'s signals were not stored (lost to the broker's retention)");
        }
        foreach (var peer in marten?.Runs ?? [])
        {
            if (peer.Lost != 0)
            {
                problems.Add($"{peer.Lost} of the Marten peer's ({peer.Name}) signals were not stored");
            }
            if (peer.Problem is not null)
            {
                problems.Add($"the Marten peer's {peer.Name} projection is wrong: {peer.Problem}");
            }
        }
        return new BenchReport(run, ranAt, elapsed, drain, copy, copyAsFiled, naive, small, large, rebuild, rebuildFromLog, marten, targets,
            problems.Count == 0, problems.Count == 0 ? null : string.Join("; ", problems) + ": the run is invalid");
    }

    public void Print()
    {
        AnsiConsole.MarkupLine($"[bold]run {Run}[/] ({RanAt:yyyy-MM-dd HH:mm} UTC, {Elapsed.TotalMinutes:0.0} minutes)");
        var table = new Table().AddColumns("measurement", "items", "seconds", "items/s");
        foreach (var m in new[] { BareConsumerDrain, BinaryCopy, BinaryCopyAsFiled, NaiveBaseline })
        {
            table.AddRow(Markup.Escape(m.Name), $"{m.Items:N0}", $"{m.Elapsed.TotalSeconds:0.00}", $"{m.PerSecond:N0}");
        }
        foreach (var p in new[] { Jobs10k, Jobs100k }.OfType<PipelineResult>())
        {
            table.AddRow($"ours, {p.Jobs:N0} jobs (stored + projected + archived; {p.Decisions:N0} decisions; peak RSS {p.PeakRssBytes / 1048576:N0} MiB)",
                $"{p.Messages:N0}", $"{p.ProjectionsCurrent.TotalSeconds:0.00}", $"{p.PerSecond:N0}");
        }
        foreach (var m in new[] { Rebuild, RebuildFromLog })
        {
            table.AddRow(Markup.Escape(m.Name), $"{m.Items:N0}", $"{m.Elapsed.TotalSeconds:0.00}", $"{m.PerSecond:N0}");
        }
        if (Marten is { } marten)
        {
            var appends = marten.Appends;
            table.AddRow($"Marten, {appends.Jobs:N0} jobs: appends alone (peak RSS {appends.PeakRssBytes / 1048576:N0} MiB)",
                $"{appends.Messages:N0}", $"{appends.Appended.TotalSeconds:0.00}", $"{appends.AppendsPerSecond:N0}");
            foreach (var (peer, rebuild) in new[] { (marten.EndToEnd, marten.Rebuild), (marten.Aggregate, marten.AggregateRebuild) })
            {
                if (peer is null || rebuild is null)
                {
                    continue;
                }
                table.AddRow($"Marten, {peer.Jobs:N0} jobs: stored + projected ({ProjectionTitle(peer.Projection)}; appends alongside {peer.AppendsPerSecond:N0}/s; peak RSS {peer.PeakRssBytes / 1048576:N0} MiB)",
                    $"{peer.Messages:N0}", $"{peer.ProjectionsCurrent.TotalSeconds:0.00}", $"{peer.PerSecond:N0}");
                table.AddRow(Markup.Escape(rebuild.Name), $"{rebuild.Items:N0}", $"{rebuild.Elapsed.TotalSeconds:0.00}", $"{rebuild.PerSecond:N0}");
            }
        }
        AnsiConsole.Write(table);

        var cpu = new Table().AddColumns("CPU per signal (µs)", "all", "system's process", "its PostgreSQL backends", "PostgreSQL background", "bench's probes' backends", "bench", "cores busy");
        foreach (var (name, use) in CpuRows())
        {
            cpu.AddRow(name, $"{use.MicrosecondsPerSignal:N0}", $"{use.PerSignal(use.SystemProcess):N0}", $"{use.PerSignal(use.PostgresConnections):N0}",
                $"{use.PerSignal(use.PostgresBackground):N0}", $"{use.PerSignal(use.PostgresProbes):N1}", $"{use.PerSignal(use.Bench):N0}", $"{use.CoresBusy:0.00}");
        }
        AnsiConsole.Write(cpu);

        var latency = new Table().AddColumns("one signal, idle system: producer to projected row (median of 3)", "ms", "after a burned log position, ms");
        foreach (var (name, measured) in LatencyRows())
        {
            latency.AddRow(name, $"{measured.Idle.TotalMilliseconds:N0}", $"{measured.AfterBurnedPosition.TotalMilliseconds:N0}");
        }
        AnsiConsole.Write(latency);

        var targets = new Table().AddColumns("target", "measured", "threshold", "met");
        foreach (var t in Targets)
        {
            targets.AddRow(Markup.Escape(t.Name), t.Value >= 1000 ? $"{t.Value:N0}" : $"{t.Value:0.00}", Markup.Escape(t.Describe()), t.Met ? "[green]yes[/]" : "[red]no[/]");
        }
        AnsiConsole.Write(targets);
        if (!Valid)
        {
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(InvalidReason!)}[/]");
        }
    }

    /// <summary>Each measured ingest run's CPU: ours (the all-in-one process; the bench column is the producer) and the Marten peer's (its bench column also hosts the broker).</summary>
    public IEnumerable<(string Name, CpuUse Use)> CpuRows()
    {
        foreach (var p in new[] { Jobs10k, Jobs100k }.OfType<PipelineResult>())
        {
            yield return ($"ours, {p.Jobs:N0} jobs (all-in-one process; bench = producer)", p.Cpu);
        }
        foreach (var peer in Marten?.Runs ?? [])
        {
            yield return ($"Marten, {peer.Jobs:N0} jobs, {ProjectionTitle(peer.Projection)} (peer process; bench = producer + broker)", peer.Cpu);
        }
    }

    public IEnumerable<(string Name, TailLatency Latency)> LatencyRows()
    {
        foreach (var p in new[] { Jobs10k, Jobs100k }.OfType<PipelineResult>())
        {
            yield return ($"ours, after the {p.Jobs:N0}-job run", p.Latency);
        }
        foreach (var peer in Marten?.Runs ?? [])
        {
            if (peer.Latency is { } measured)
            {
                yield return ($"Marten, {ProjectionTitle(peer.Projection)}, after the {peer.Jobs:N0}-job run", measured);
            }
        }
    }

    static string ProjectionTitle(string projection) => projection switch
    {
        "sql" => "raw-SQL IProjection",
        "aggregate" => "SingleStreamProjection",
        _ => "appends alone",
    };
}
