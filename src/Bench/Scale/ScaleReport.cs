using System.Globalization;
using Spectre.Console;

namespace Streaming.Bench.Scale;

/// <summary>The figures of one <c>scale</c> run (issue 22): throughput and CPU per signal by instance count, the takeover, the sharded fleet.</summary>
public sealed record ScaleReport(
    string Machine,
    string Command,
    DateTimeOffset RanAt,
    TimeSpan Elapsed,
    IReadOnlyList<InstancesResult> Instances,
    TakeoverResult? Takeover,
    FleetResult? Fleet,
    IReadOnlyList<BenchTarget> Targets,
    IReadOnlyList<string> Problems)
{
    public bool Valid => Problems.Count == 0;

    /// <summary>CPU per signal against one instance's (or the first count measured, when 1 was not).</summary>
    public double CpuRatio(InstancesResult result) =>
        result.Cpu.MicrosecondsPerSignal / (Instances.FirstOrDefault(r => r.Instances == 1) ?? Instances[0]).Cpu.MicrosecondsPerSignal;

    public static ScaleReport Create(string machine, string command, DateTimeOffset ranAt, TimeSpan elapsed,
        IReadOnlyList<InstancesResult> instances, TakeoverResult? takeover, FleetResult? fleet)
    {
        var report = new ScaleReport(machine, command, ranAt, elapsed, instances, takeover, fleet, [], []);
        var targets = new List<BenchTarget>();
        var problems = new List<string>();
        foreach (var result in instances.Where(r => r.Instances > 1))
        {
            targets.Add(new($"CPU per signal, {result.Instances} instances vs 1", report.CpuRatio(result), 1.15, "<"));
        }
        foreach (var result in instances.Where(r => r.Lost != 0))
        {
            problems.Add($"{result.Lost} of the {result.Instances}-instance run's signals were not stored (lost to the broker's retention)");
        }
        if (takeover is not null)
        {
            if (takeover.Seconds is null)
            {
                problems.Add($"partitions {string.Join(',', takeover.TakeoverSecondsByPartition.Where(p => p.Value is null).Select(p => p.Key))} of the killed {takeover.Killed} had no decision again");
            }
            if (takeover.Undecided != 0 || takeover.DecidedTwice != 0)
            {
                problems.Add($"takeover: {takeover.Undecided} of {takeover.Probes} probe jobs never decided, {takeover.DecidedTwice} decided twice");
            }
        }
        if (fleet is not null)
        {
            targets.Add(new($"fleet of {fleet.Jobs:N0} jobs over {fleet.Shards} shards, {fleet.Instances} of each: peak RSS per process (MiB)", fleet.MaxPeakRssBytes / 1048576.0, FleetResult.RssLimitBytes / 1048576.0, "<"));
            foreach (var (what, count) in new[] { ("a stream", fleet.Rows.Sum(r => r.JobStreams)), ("a projected state", fleet.Rows.Sum(r => r.ProjectedStates)), ("a Promoter state", fleet.Rows.Sum(r => r.PromoterStates)) })
            {
                if (count != fleet.Jobs)
                {
                    problems.Add($"fleet: {count:N0} of {fleet.Jobs:N0} jobs have {what}");
                }
            }
        }
        return report with { Targets = targets, Problems = problems };
    }

    public void Print()
    {
        if (Instances.Count > 0)
        {
            var table = new Table().AddColumns("instances per service", "jobs", "signals", "seconds (stored / current)", "signals/s", "decisions",
                "CPU µs/signal", "services", "their backends", "PostgreSQL's own", "probes' backends", "bench", "cores busy", "vs 1 instance", "max peak RSS MiB");
            foreach (var r in Instances)
            {
                var us = r.Cpu.MicrosecondsPerSignalByKind;
                table.AddRow($"{r.Instances}", $"{r.Jobs:N0}", $"{r.Signals:N0}", $"{r.Ingested.TotalSeconds:0.0} / {r.Current.TotalSeconds:0.0}", $"{r.PerSecond:N0}",
                    $"{r.Decisions:N0}", $"{r.Cpu.MicrosecondsPerSignal:N0}", $"{us["systemProcess"]:N0}", $"{us["postgresConnections"]:N0}", $"{us["postgresBackground"]:N0}",
                    $"{us["postgresProbes"]:N1}", $"{us["bench"]:N0}", $"{r.Cpu.CoresBusy:0.00}", $"{CpuRatio(r):0.00}", $"{r.MaxPeakRssBytes / 1048576:N0}");
            }
            AnsiConsole.Write(table);
            foreach (var r in Instances)
            {
                AnsiConsole.MarkupLine(Markup.Escape($"peak RSS MiB, {r.Instances} instance(s): {Rss(r.PeakRssBytes)}"));
            }
        }
        if (Takeover is { } t)
        {
            var table = new Table().AddColumns("takeover", "value");
            table.AddRow("Promoters", $"{t.Instances}, [bold]{Markup.Escape(t.Killed)}[/] killed (SIGKILL)");
            table.AddRow("its partitions", string.Join(',', t.MovedPartitions));
            table.AddRow("kill → in every one of them, a decision of a signal produced after the kill committed (s)", Seconds(t.Seconds));
            table.AddRow("per partition (s)", Markup.Escape(string.Join(", ", t.TakeoverSecondsByPartition.OrderBy(p => p.Key).Select(p => $"{p.Key}: {Seconds(p.Value)}"))));
            table.AddRow("kill → a survivor's group assigns it one of them (its log, s)", Seconds(t.AssignedAfterSeconds));
            table.AddRow("signal produced → decision committed before the kill, p50 (s)", Seconds(t.DecisionSecondsBeforeKillP50));
            table.AddRow("the same after the kill in the other partitions, max (s)", Seconds(t.DecisionSecondsOtherPartitionsAfterKillMax));
            table.AddRow("probe jobs (undecided / decided twice)", $"{t.Probes} ({t.Undecided} / {t.DecidedTwice})");
            table.AddRow("background signals stored/s", $"{t.BackgroundStoredPerSecond:N0}");
            AnsiConsole.Write(table);
        }
        if (Fleet is { } f)
        {
            AnsiConsole.MarkupLine(Markup.Escape(
                $"fleet: {f.Jobs:N0} jobs over {f.Shards} shards, {f.Instances} instance(s) of each service (per shard), {f.Signals:N0} signals: a signal of every job produced after {f.EveryJobProducedAfter.TotalSeconds:0} s, all stored and current after "
                + $"{f.Current.TotalSeconds:0} s, {f.PerSecond:N0} signals/s; peak RSS MiB {Rss(f.PeakRssBytes)}; RSS once current MiB {Rss(f.RssBytesWhenCurrent)}"));
            var rows = new Table().AddColumns("shard", "signal events", "job streams", "projected states", "Promoter states", "decisions");
            foreach (var r in f.Rows)
            {
                rows.AddRow($"{r.Shard}", $"{r.SignalEvents:N0}", $"{r.JobStreams:N0}", $"{r.ProjectedStates:N0}", $"{r.PromoterStates:N0}", $"{r.Decisions:N0}");
            }
            AnsiConsole.Write(rows);
        }
        if (Targets.Count > 0)
        {
            var targets = new Table().AddColumns("target (issue 22)", "measured", "threshold", "met");
            foreach (var target in Targets)
            {
                targets.AddRow(Markup.Escape(target.Name), target.Value.ToString("#,0.##", CultureInfo.InvariantCulture), Markup.Escape(target.Describe()), target.Met ? "[green]yes[/]" : "[red]no[/]");
            }
            AnsiConsole.Write(targets);
        }
        foreach (var problem in Problems)
        {
            AnsiConsole.MarkupLine($"[red]invalid:[/] {Markup.Escape(problem)}");
        }
    }

    static string Seconds(double? seconds) => seconds is { } s ? s.ToString("0.0", CultureInfo.InvariantCulture) : "never";

    static string Rss(IReadOnlyDictionary<string, long> peaks) => string.Join(", ", peaks.Select(p => $"{p.Key} {p.Value / 1048576:N0}"));
}
