using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.Signals;
using Streaming.EventStore;
using Streaming.Api.Jobs;
using Streaming.Lifecycle;
using Streaming.LifecycleEvents;
using Streaming.Projections;

namespace Streaming.Cli.Commands;

/// <summary><c>history JOB</c> (its events, newest first) and <c>state JOB --as-of TIME</c> (its state at an event time, replayed).</summary>
public static class JobCommands
{
    public static Command History()
    {
        var job = new Argument<string>("job");
        var limit = new Option<int>("--limit") { DefaultValueFactory = _ => 50, Description = "how many events" };
        var before = new Option<long?>("--before") { Description = "only events before this stream version (to page back)" };
        var command = new Command("history", "A job's events, newest first") { job, limit, before };
        return command.WithAction(async (context, parse, cancellationToken) =>
        {
            var streams = new EventStreams(await context.StoreOfJobAsync(parse.GetValue(job)!, cancellationToken));
            var events = await streams.ReadStreamBackwardAsync(parse.GetValue(job)!, (parse.GetValue(before) ?? long.MaxValue) - (parse.GetValue(before) is null ? 0 : 1),
                Math.Clamp(parse.GetValue(limit), 1, 100_000), cancellationToken);
            if (events.Count == 0 && parse.GetValue(before) is null)
            {
                throw new CommandFailedException($"no job {parse.GetValue(job)}");
            }
            context.Print(events.Select(e => new { e.Version, e.Type, e.EventTime, e.RecordedAt, e.GlobalPosition, Data = Masked(e.Data) }), () =>
            {
                var table = new Table().AddColumns("version", "event time", "type", "what");
                foreach (var e in events)
                {
                    table.AddRow(e.Version.ToString(CultureInfo.InvariantCulture), e.EventTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                        Markup.Escape(e.Type), Markup.Escape(Describe(e)));
                }
                AnsiConsole.Write(table);
            });
            return 0;
        });
    }

    public static Command State()
    {
        var job = new Argument<string>("job");
        var asOf = new Option<DateTimeOffset>("--as-of") { Required = true, Description = "an event time (ISO 8601): the job's state after its events up to then" };
        var command = new Command("state", "A job's state as of an event time, replayed from its events") { job, asOf };
        return command.WithAction(async (context, parse, cancellationToken) =>
        {
            var jobId = parse.GetValue(job)!;
            var store = await context.StoreOfJobAsync(jobId, cancellationToken);
            var events = await new EventStreams(store).ReadStreamAsOfAsync(jobId, parse.GetValue(asOf), cancellationToken);
            if (events.Count == 0)
            {
                throw new CommandFailedException($"job {jobId} has no events at or before {parse.GetValue(asOf):u}");
            }
            var policies = new ActivePolicies(Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
            await policies.LoadAsync(store, events[^1].Position, cancellationToken);
            var (state, policy) = JobReplay.Fold(jobId, events, signal => policies.For(signal.Labels));
            var report = policy is null ? null : JobLifecycleDecider.Evaluate(state, policy);
            var result = new
            {
                jobId,
                asOf = parse.GetValue(asOf),
                events = events.Count,
                policy = policy?.Id,
                assignedPhase = state.AssignedPhase,
                assignedAt = state.AssignedAt,
                phaseSince = state.PhaseSince,
                reportedPhase = state.LastReportedPhase,
                lastSignalAt = state.LastSignalAt,
                flags = state.Flags().Concat(report?.Stuck == true ? [LifecycleFlags.Stuck] : []).Concat(report?.Drifted == true ? [LifecycleFlags.Drifted] : []),
                activeOverride = state.ActiveOverride,
                verdict = report is null ? null : Verdicts.Name(report.Verdict),
                promotionStreak = state.PromotionStreak,
                criteria = report?.Criteria.Select(c => new
                {
                    c.Metric, aggregation = Aggregations.Name(c.Aggregation), comparison = c.Comparison.Symbol(), c.Threshold, c.Value, c.Samples, verdict = Verdicts.Name(c.Verdict),
                }),
            };
            context.Print(result, () =>
            {
                Console.WriteLine($"{jobId} as of {parse.GetValue(asOf):u} ({events.Count} events, {policy?.Id ?? "no policy"})");
                Console.WriteLine($"  phase {state.AssignedPhase ?? "-"} since {state.PhaseSince:u}, reports {state.LastReportedPhase ?? "-"}, last signal {state.LastSignalAt:u}");
                Console.WriteLine($"  flags: {string.Join(", ", result.flags)}");
                if (state.ActiveOverride is { } active)
                {
                    Console.WriteLine($"  {OverrideKinds.Name(active.Kind)} by {active.Actor}: {active.Reason}");
                }
                foreach (var c in report?.Criteria ?? [])
                {
                    Console.WriteLine($"  {c.Metric} {Aggregations.Name(c.Aggregation)} = {c.Value?.ToString(CultureInfo.InvariantCulture) ?? "no data"} {c.Comparison.Symbol()} {c.Threshold.ToString(CultureInfo.InvariantCulture)}: {Verdicts.Name(c.Verdict)} ({c.Samples} samples)");
                }
            });
            return 0;
        });
    }

    static JsonNode? Masked(string data)
    {
        var node = JsonNode.Parse(data);
        SecretLabels.MaskInPlace(node?["labels"] as JsonObject);
        return node;
    }

    static string Describe(RecordedEvent recorded) => recorded.Type switch
    {
        SignalRecorded.EventType when ContractsJson.Deserialize<SignalRecorded>(recorded.Data) is var s =>
            $"seq {s.Seq} {s.Phase} " + string.Join(" ", s.Metrics.Select(m => $"{m.Key}={m.Value.ToString(CultureInfo.InvariantCulture)}")),
        PhaseChanged.EventType when ContractsJson.Deserialize<PhaseChanged>(recorded.Data) is var c => $"{c.Direction} {c.From} → {c.To} by {c.Policy}: {c.Reason}",
        OverrideSet.EventType when ContractsJson.Deserialize<OverrideSet>(recorded.Data) is var o => $"{o.Kind}{(o.Phase is null ? "" : " " + o.Phase)} by {o.Actor}: {o.Reason}",
        OverrideEnded.EventType when ContractsJson.Deserialize<OverrideEnded>(recorded.Data) is var e => $"{e.Kind} ended: {e.Reason}",
        PromotionDeferred.EventType when ContractsJson.Deserialize<PromotionDeferred>(recorded.Data) is var d => $"waits for {d.To}: {d.Reason}",
        ApprovalRequested.EventType when ContractsJson.Deserialize<ApprovalRequested>(recorded.Data) is var r => $"waits for approval of {r.From} → {r.To}",
        ApprovalGranted.EventType when ContractsJson.Deserialize<ApprovalGranted>(recorded.Data) is var g => $"{g.From} → {g.To} approved by {g.Actor} ({g.Scope}): {g.Reason}",
        ApprovalLapsed.EventType when ContractsJson.Deserialize<ApprovalLapsed>(recorded.Data) is var l => $"approval of {l.From} → {l.To} lapsed: {l.Reason}",
        _ => "",
    };
}
