using System.Globalization;
using System.Text;
using Streaming.Chaos.BadInput;
using Streaming.Chaos.Verification;

namespace Streaming.Chaos;

/// <summary>The fault suite's figures: per run, and in total (faults injected, signals sent, lost, duplicated, bad-input kinds tried).</summary>
public sealed record ChaosReport(ChaosSettings Settings, RunFigures? Reference, IReadOnlyList<RunFigures> Runs, BadInputFigures? BadInput, TimeSpan Duration)
{
    public int FaultsInjected => Runs.Sum(r => r.Faults.Count);

    public long SignalsSent => (Reference?.MessagesSent ?? 0) + Runs.Sum(r => r.MessagesSent);

    public long Lost => (Reference?.Lost ?? 0) + Runs.Sum(r => r.Lost);

    public long Duplicated => (Reference?.Duplicated ?? 0) + Runs.Sum(r => r.Duplicated);

    public IReadOnlyList<string> Failures =>
    [
        .. (Reference is null ? [] : Reference.Failures().Select(f => $"{Reference.Scenario}: {f}")),
        .. Runs.SelectMany(r => r.Failures().Select(f => $"{r.Scenario}: {f}")),
        .. BadInput?.Failures().Select(f => $"bad input: {f}") ?? [],
    ];

    public bool Passed => Failures.Count == 0;

    public string Render()
    {
        var text = new StringBuilder();
        var settings = Settings;
        text.AppendLine(Invariant($"Fault suite, seed {settings.Seed}: {settings.Jobs:N0} jobs × {settings.SignalsPerJob} signals a run, {settings.Partitions} partitions{Shape(settings)}, {Duration.TotalSeconds:0} s"));
        text.AppendLine();
        text.AppendLine("| run | faults | messages sent | unique signals | stored | lost | duplicated | decisions | published (msgs) | unlike reference (signals/events/rows) | unlike own rebuild | unexpected exits | seconds |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var run in (Reference is null ? Runs : Runs.Prepend(Reference)))
        {
            text.AppendLine(Invariant(
                $"| {run.Scenario} | {run.Faults.Count} | {run.MessagesSent:N0} | {run.UniqueSignals:N0} | {run.SignalsStored:N0} | {run.Lost} | {run.Duplicated} | {run.Decisions:N0} | {run.Decisions - run.DecisionsUnpublished:N0} ({run.PublishedMessages:N0}) | {run.Altered}/{run.EventDifferences}/{run.ProjectionDifferences} | {run.RebuildDifferences} | {run.UnexpectedExits} | {run.Duration.TotalSeconds:0} |"));
        }
        foreach (var run in Runs.Where(r => r.Faults.Count > 0 || r.Examples.Count > 0))
        {
            text.AppendLine();
            text.AppendLine($"{run.Scenario}:");
            foreach (var fault in run.Faults)
            {
                text.AppendLine("  - " + fault);
            }
            foreach (var example in run.Examples)
            {
                text.AppendLine("  differs: " + example);
            }
        }
        if (BadInput is { } bad)
        {
            text.AppendLine();
            text.AppendLine(Invariant($"Bad input: {bad.KindsPassed} of {bad.KindsTried} kinds dead-lettered with a reason, each followed by a good signal on its partition; Ingest exits {bad.IngestExits}, forged log lines {bad.ForgedLogLines}, longest log line {bad.LongestLogLine:N0} characters ({bad.Duration.TotalSeconds:0} s)"));
            foreach (var outcome in bad.Outcomes)
            {
                text.AppendLine($"  {(outcome.Passed ? "ok  " : "FAIL")} {outcome.Kind}: {Shorten(outcome.Verdict)}");
            }
        }
        text.AppendLine();
        text.AppendLine(Invariant($"Total: {FaultsInjected} faults injected, {SignalsSent:N0} messages sent, {Lost} lost, {Duplicated} duplicated, {BadInput?.KindsTried ?? 0} bad-input kinds tried"));
        text.AppendLine(Passed ? "PASSED" : "FAILED:" + string.Concat(Failures.Select(f => System.Environment.NewLine + "  " + f)));
        return text.ToString();
    }

    static string Shape(ChaosSettings settings) => (settings.Instances, settings.InstancesOf("ingest"), settings.Shards) switch
    {
        (1, 1, 1) => "",
        (var instances, var ingest, 1) when ingest == instances => $", runs with faults on {instances} instances of each service (the reference on one)",
        (var instances, var ingest, 1) => $", runs with faults on {ingest} Ingest, {instances} Projector and {instances} Promoter instances (the reference on one of each)",
        (var instances, var ingest, var shards) => $", runs with faults on {shards} shards: {ingest} Ingest, {instances} Projector and {instances} Promoter a shard (the reference: one of each, one shard)",
    };

    static string Shorten(string text)
    {
        var line = text.ReplaceLineEndings(" ");
        return line.Length <= 160 ? line : line[..160] + "…";
    }

    static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
