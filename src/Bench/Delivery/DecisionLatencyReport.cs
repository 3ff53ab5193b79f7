using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace Streaming.Bench.Delivery;

/// <summary>What <c>bench decision-latency</c> measured.</summary>
sealed record DecisionLatencyReport(
    int TargetRate,
    int BackgroundJobs,
    int FetchWaitMs,
    double ProducedPerSecond,
    double StoredPerSecond,
    int Probes,
    Percentiles Kafka,
    Percentiles Bus,
    Percentiles RawKafka,
    Percentiles RawBus,
    Percentiles ProducedToSignalCommitted,
    Percentiles SignalCommittedToDecisionCommitted,
    Percentiles DecisionCommittedToKafka,
    Percentiles DecisionCommittedToBus,
    Percentiles CommitToVisible,
    Percentiles SignalCommitToVisible,
    Percentiles OtherCommitToVisible,
    BookkeepingCommits Commits)
{
    public static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public bool AllReceived => Kafka.Count == Probes && Bus.Count == Probes;

    public double BookkeepingPerIngestCommit => Commits.IngestCommits > 0 ? (double)Commits.Total / Commits.IngestCommits : double.NaN;

    public void Print()
    {
        AnsiConsole.MarkupLine(
            $"background: {ProducedPerSecond:N0} signals/s produced, {StoredPerSecond:N0}/s stored (target {TargetRate:N0}/s from {BackgroundJobs:N0} jobs); " +
            $"{Probes} probe decisions; every consumer's fetch.wait.max.ms {FetchWaitMs} (the embedded broker holds each fetch that long)");
        var table = new Table().AddColumns("from the deciding signal's produce call to …", "n", "p50 ms", "p99 ms", "max ms");
        Row(table, "PhaseChanged in the job's Kafka consumer", Kafka);
        Row(table, "PhaseChanged in the job's MassTransit consumer", Bus);
        Row(table, "raw limit: bare produce → consume, Kafka (same broker)", RawKafka);
        Row(table, "raw limit: bare publish → consume, RabbitMQ (same broker)", RawBus);
        Row(table, "  where it goes: produced → signal committed (Ingest)", ProducedToSignalCommitted);
        Row(table, "  signal committed → decision committed (tail, Promoter)", SignalCommittedToDecisionCommitted);
        Row(table, "  decision committed → Kafka consumer (relay, broker)", DecisionCommittedToKafka);
        Row(table, "  decision committed → MassTransit consumer (relay, broker)", DecisionCommittedToBus);
        AnsiConsole.Write(table);
        var visible = new Table().AddColumns("every commit during the load …", "n", "p50 ms", "p99 ms", "max ms");
        Row(visible, "commit → visible to a notified tail (another process)", CommitToVisible);
        Row(visible, "  Ingest's commits (asynchronous)", SignalCommitToVisible);
        Row(visible, "  the others: decisions, operators' writes (synchronous: with their WAL flush)", OtherCommitToVisible);
        AnsiConsole.Write(visible);
        AnsiConsole.MarkupLine(
            $"bookkeeping commits during the load: {Commits.Total:N0} for {Commits.IngestCommits:N0} Ingest commits, " +
            $"[bold]{BookkeepingPerIngestCommit:N2} per Ingest commit[/] (" +
            Markup.Escape(string.Join(", ", Commits.ByFold.Where(f => f.Value > 0).OrderByDescending(f => f.Value).Select(f => $"{f.Key} {f.Value:N0}"))) + ")");
    }

    static void Row(Table table, string what, Percentiles p) =>
        table.AddRow(what, p.Count.ToString(CultureInfo.InvariantCulture), Ms(p.P50), Ms(p.P99), Ms(p.Max));

    static string Ms(double value) => double.IsNaN(value) ? "-" : value.ToString("N1", CultureInfo.InvariantCulture);
}
