using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Streaming.Hosting.Logging;
using Streaming.Lifecycle;
using Streaming.Projections.History;
using Streaming.Promoter.Backtesting;

namespace Streaming.Cli.Commands;

/// <summary>
/// <c>streaming backtest CANDIDATE.yaml [--job ID]... [--label NAME=VALUE]... [--per-job] [--csv PATH] [--cache PATH]
/// [--no-archive] [--without-pauses]</c>: replays the recorded history of all jobs (or those named or matching every label given) through
/// the candidate policy (<see cref="BacktestReplay"/>) and reports against what the policies in force decided, as text
/// or, with <c>--json</c>, as JSON on standard output. Nothing is written to the store. With <c>--cache</c>, what was
/// read from it is also kept in a local <see cref="HistoryCache"/> at PATH, so the next backtest with it reads only what
/// is new. A sharded store's history is replayed over every shard (<see cref="BacktestReplay"/>), without a cache.
/// </summary>
public static class BacktestCommand
{
    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static async Task<int> RunAsync(CommandContext context, BacktestOptions options, CancellationToken cancellationToken)
    {
        var path = options.Candidate.FullName;
        if (!File.Exists(path))
        {
            throw new CommandFailedException($"{options.Candidate} does not exist", 2);
        }
        var parsed = PolicyDocument.Parse(await File.ReadAllTextAsync(path, cancellationToken), version: 0);
        if (parsed.Policy is not { } candidate)
        {
            foreach (var error in parsed.Errors)
            {
                Console.Error.WriteLine($"{options.Candidate}: {error}");
            }
            return 2;
        }
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var label in options.Labels)
        {
            if (label.Split('=', 2) is not [{ Length: > 0 } name, var value])
            {
                throw new CommandFailedException($"--label {label}: expected NAME=VALUE", 2);
            }
            labels[name] = value;
        }
        using var loggers = StreamingLogging.ForCommandLine();
        var logger = loggers.CreateLogger("backtest");
        var shards = await context.ShardsAsync(cancellationToken);
        var backtest = new Backtest(candidate, Selection(new HashSet<string>(options.Jobs, StringComparer.Ordinal), labels), logger, options.WithoutPauses,
            await BacktestReplay.AdmissionModeAsync(shards.Control, cancellationToken));
        var clock = Stopwatch.StartNew();
        if (options.CachePath is not null && shards.Count > 1)
        {
            Console.Error.WriteLine($"--cache keeps a copy of one store's log: not used over {shards.Count} shards");
        }
        var cache = options.CachePath is null || shards.Count > 1 ? null : new HistoryCache(options.CachePath);
        long fromCache = 0, fromArchive, fromLog;
        if (shards.Count == 1)
        {
            (fromCache, fromArchive, fromLog) = await BacktestReplay.ReplayAsync(shards.Control, backtest, cache, options.UseArchive, logger, cancellationToken);
        }
        else
        {
            (fromArchive, fromLog) = await BacktestReplay.ReplayAsync(shards, backtest, options.UseArchive, logger, cancellationToken);
        }
        var report = backtest.Report(options.PerJob);
        clock.Stop();
        if (context.JsonOutput)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(report, Json));
        }
        else
        {
            Console.Write(Summary(report, clock.Elapsed));
            if (options.WithoutPauses)
            {
                Console.WriteLine("the candidate was replayed as if nobody had paused promotions (--without-pauses)");
            }
            Console.WriteLine(cache is null
                ? $"{fromArchive:N0} events read from the history archive, {fromLog:N0} from the log{(shards.Count > 1 ? $" (over {shards.Count} shards)" : " (no cache)")}"
                : $"{fromCache:N0} events from the cache {cache.Path}, {fromArchive:N0} from the history archive, {fromLog:N0} from the log (now cached too)");
        }
        if (options.CsvPath is not null)
        {
            await File.WriteAllTextAsync(options.CsvPath, Csv(backtest), cancellationToken);
        }
        return 0;
    }

    static Func<string, IReadOnlyDictionary<string, string>, bool>? Selection(HashSet<string> jobs, Dictionary<string, string> labels)
    {
        if (jobs.Count == 0 && labels.Count == 0)
        {
            return null;
        }
        var selector = new LabelSelector(labels);
        return (job, jobLabels) => (jobs.Count == 0 || jobs.Contains(job)) && selector.Matches(jobLabels);
    }

    static string Summary(BacktestReport report, TimeSpan elapsed)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"backtest of {report.Candidate}: {report.Events:N0} events, {report.Jobs:N0} jobs, {elapsed.TotalSeconds:0.0} s ({report.Events / Math.Max(elapsed.TotalSeconds, 0.001):N0} events/s)");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"recorded decisions: {report.RecordedDecisions:N0}; the recorded policies replayed reproduce them: {(report.BaselineReproducesRecord ? "yes" : $"NO ({report.BaselineMismatches} differ)")}");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"recorded holds (promotions deferred): {report.RecordedDeferrals:N0}; reproduced: {(report.BaselineReproducesDeferrals ? "yes" : $"NO ({report.DeferralMismatches} differ)")}");
        if (report.RecordedGrants > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"recorded wave grants (several Promoters): {report.RecordedGrants:N0}; the owner's fold of the recorded requests and releases reproduces them: {(report.BaselineReproducesGrants ? "yes" : $"NO ({report.GrantMismatches} differ)")}; the candidate decides waves as one Promoter");
        }
        if (report.RecordedBreakerChanges > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"recorded breaker changes (several Promoters): {report.RecordedBreakerChanges:N0}; the owner's fold of the recorded breaker reports reproduces them: {(report.BaselineReproducesBreakerChanges ? "yes" : $"NO ({report.BreakerChangeMismatches} differ)")}; the candidate decides breakers as one Promoter");
        }
        text.AppendLine("                      recorded policies   candidate");
        Row(text, "promotions", report.Baseline.Promotions, report.CandidateSide.Promotions);
        Row(text, "demotions", report.Baseline.Demotions, report.CandidateSide.Demotions);
        Row(text, "override moves", report.Baseline.Overrides, report.CandidateSide.Overrides);
        Row(text, "flaps (undone < 1 day)", report.Baseline.Flaps, report.CandidateSide.Flaps);
        Row(text, "stuck at the end", report.Baseline.Stuck, report.CandidateSide.Stuck);
        foreach (var cause in report.Baseline.Held.Keys.Union(report.CandidateSide.Held.Keys).Order(StringComparer.Ordinal))
        {
            Row(text, $"held ({cause})", report.Baseline.Held.GetValueOrDefault(cause), report.CandidateSide.Held.GetValueOrDefault(cause));
        }
        if (report.Baseline.Poisoned + report.CandidateSide.Poisoned > 0)
        {
            Row(text, "events not applicable", report.Baseline.Poisoned, report.CandidateSide.Poisoned);
        }
        foreach (var phase in report.Baseline.TimeToPhase.Select(t => t.Phase).Union(report.CandidateSide.TimeToPhase.Select(t => t.Phase)).Order(StringComparer.Ordinal))
        {
            var before = report.Baseline.TimeToPhase.FirstOrDefault(t => t.Phase == phase);
            var after = report.CandidateSide.TimeToPhase.FirstOrDefault(t => t.Phase == phase);
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  to {phase,-18} {Timing(before),-19} {Timing(after)}");
        }
        text.AppendLine(CultureInfo.InvariantCulture,
            $"moves gained {report.Gained:N0}, lost {report.Lost:N0}; jobs whose decisions differ: {report.JobsDiffering:N0}");
        foreach (var difference in report.Differences)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  {difference.JobId}: recorded [{string.Join(", ", difference.Baseline)}] candidate [{string.Join(", ", difference.Candidate)}]");
        }
        return text.ToString();
    }

    static void Row(StringBuilder text, string name, int before, int after) =>
        text.AppendLine(CultureInfo.InvariantCulture, $"  {name,-22} {before,-19:N0} {after:N0}");

    static string Timing(PhaseTiming? timing) =>
        timing is null ? "-" : string.Create(CultureInfo.InvariantCulture, $"p50 {timing.P50Hours:0.##}h p95 {timing.P95Hours:0.##}h ({timing.Jobs})");

    static string Csv(Backtest backtest)
    {
        var csv = new StringBuilder("side,job_id,from,to,direction,decided_at,deciding_version,policy\n");
        foreach (var (side, d) in backtest.AllDecisions())
        {
            csv.Append(CultureInfo.InvariantCulture,
                $"{side},{Quote(d.JobId)},{Quote(d.From)},{Quote(d.To)},{d.Direction},{d.DecidedAt:yyyy-MM-ddTHH:mm:ssZ},{d.DecidingVersion},{Quote(d.Policy)}\n");
        }
        return csv.ToString();
    }

    static string Quote(string value) => value.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}
