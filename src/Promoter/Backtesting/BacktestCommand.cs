using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.EventStore;
using Streaming.Hosting;
using Streaming.Hosting.Logging;
using Streaming.Lifecycle;
using Streaming.Projections.History;
using Streaming.Projections.Tail;

namespace Streaming.Promoter.Backtesting;

/// <summary>
/// <c>Streaming.Promoter backtest CANDIDATE.yaml [--job ID]... [--label NAME=VALUE]... [--per-job] [--json PATH] [--csv PATH]
/// [--cache PATH] [--no-archive]</c>: replays the recorded history of all jobs (or those named or matching every label
/// given) through the candidate policy and reports against what the policies in force decided. The history is read from
/// the store's <see cref="HistoryArchive"/> as far as it reaches and from the log after that (all from the log with
/// <c>--no-archive</c>). Nothing is written to the store. With <c>--cache</c>, what was read from it is also kept in a
/// local <see cref="HistoryCache"/> at PATH, so the next backtest with it reads only what is new.
/// </summary>
public static class BacktestCommand
{
    // Small reads: each is replayed and dropped before the GC has to promote it (20,000 at a time took a quarter longer
    // and twice the memory).
    const int BatchSize = 2_000;

    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static async Task<int> RunAsync(string[] args)
    {
        if (args is not [var path, .. var rest] || path.StartsWith("--", StringComparison.Ordinal))
        {
            return Fail("usage: backtest CANDIDATE.yaml [--job ID]... [--label NAME=VALUE]... [--per-job] [--json PATH] [--csv PATH] [--cache PATH] [--no-archive]");
        }
        var parsed = PolicyDocument.Parse(await File.ReadAllTextAsync(path), version: 0);
        if (parsed.Policy is not { } candidate)
        {
            foreach (var error in parsed.Errors)
            {
                Console.Error.WriteLine($"{path}: {error}");
            }
            return 2;
        }
        var jobs = new HashSet<string>(StringComparer.Ordinal);
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        string? jsonPath = null, csvPath = null, cachePath = null;
        var perJob = false;
        var useArchive = true;
        for (var i = 0; i < rest.Length; i++)
        {
            switch (rest[i])
            {
                case "--per-job":
                    perJob = true;
                    break;
                case "--job" when i + 1 < rest.Length:
                    jobs.Add(rest[++i]);
                    break;
                case "--label" when i + 1 < rest.Length && rest[i + 1].Split('=', 2) is [{ Length: > 0 } name, var value]:
                    labels[name] = value;
                    i++;
                    break;
                case "--json" when i + 1 < rest.Length:
                    jsonPath = rest[++i];
                    break;
                case "--csv" when i + 1 < rest.Length:
                    csvPath = rest[++i];
                    break;
                case "--cache" when i + 1 < rest.Length:
                    cachePath = rest[++i];
                    break;
                case "--no-archive":
                    useArchive = false;
                    break;
                default:
                    return Fail($"backtest: unknown or incomplete option '{rest[i]}'");
            }
        }
        using var loggers = StreamingLogging.ForCommandLine();
        var logger = loggers.CreateLogger("backtest");
        var backtest = new Backtest(candidate, Selection(jobs, labels), logger);
        var connectionString = ServiceDefaults.ConnectionStringFromEnvironment();
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var clock = Stopwatch.StartNew();
        var cache = cachePath is null ? null : new HistoryCache(cachePath);
        var (fromCache, fromArchive, fromLog) = await ReplayAsync(dataSource, backtest, cache, useArchive, logger, CancellationToken.None);
        var report = backtest.Report(perJob);
        clock.Stop();
        Console.Write(Summary(report, clock.Elapsed));
        Console.WriteLine(cache is null
            ? $"{fromArchive:N0} events read from the history archive, {fromLog:N0} from the log (no cache)"
            : $"{fromCache:N0} events from the cache {cache.Path}, {fromArchive:N0} from the history archive, {fromLog:N0} from the log (now cached too)");
        if (jsonPath is not null)
        {
            await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(report, Json));
        }
        if (csvPath is not null)
        {
            await File.WriteAllTextAsync(csvPath, Csv(backtest));
        }
        return 0;
    }

    /// <summary>
    /// Replays the whole log in commit order: what <paramref name="cache"/> holds of it first, then what the history
    /// archive holds after that (unless <paramref name="useArchive"/> is false), then the rest from the log itself,
    /// each read ahead while the last read is replayed; what came from the store is added to the cache. Returns how
    /// many events came from each.
    /// </summary>
    public static async Task<(long FromCache, long FromArchive, long FromLog)> ReplayAsync(
        NpgsqlDataSource dataSource, Backtest backtest, HistoryCache? cache, bool useArchive, ILogger logger, CancellationToken cancellationToken)
    {
        var position = TailPosition.Start;
        long fromCache = 0, fromArchive = 0, fromLog = 0;
        if (cache is not null && await OriginAsync(dataSource, cancellationToken) is { } origin)
        {
            position = cache.Replay(origin, segment =>
            {
                backtest.Apply(segment);
                fromCache += segment.Count;
            }) ?? TailPosition.Start;
        }
        var source = new LogSource(dataSource, logger, BatchSize);
        try
        {
            var reading = ReadAsync(source, position, useArchive, cancellationToken);
            while (true)
            {
                var batch = await reading;
                if (batch.IsEmpty)
                {
                    return (fromCache, fromArchive, fromLog);
                }
                reading = ReadAsync(source, batch.End, useArchive, cancellationToken);
                var events = batch.Events;
                backtest.Apply(events);
                cache?.AppendSegment(events, batch.End);
                if (batch.FromArchive)
                {
                    fromArchive += events.Count;
                }
                else
                {
                    fromLog += events.Count;
                }
            }
        }
        finally
        {
            cache?.Close();
        }
    }

    // The next batch, read and decoded on a pool thread: reading one batch overlaps replaying the last.
    static Task<LogBatch> ReadAsync(LogSource source, TailPosition after, bool useArchive, CancellationToken cancellationToken) =>
        Task.Run(() => source.ReadAsync(after, useArchive, cancellationToken), cancellationToken);

    /// <summary>The first event of the log: what tells one log's cache from another's.</summary>
    static async Task<Guid?> OriginAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select event_id from es.events order by global_position limit 1");
        return await command.ExecuteScalarAsync(cancellationToken) is Guid id ? id : null;
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
        text.AppendLine("                      recorded policies   candidate");
        Row(text, "promotions", report.Baseline.Promotions, report.CandidateSide.Promotions);
        Row(text, "demotions", report.Baseline.Demotions, report.CandidateSide.Demotions);
        Row(text, "override moves", report.Baseline.Overrides, report.CandidateSide.Overrides);
        Row(text, "flaps (undone < 1 day)", report.Baseline.Flaps, report.CandidateSide.Flaps);
        Row(text, "stuck at the end", report.Baseline.Stuck, report.CandidateSide.Stuck);
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

    static int Fail(string message)
    {
        Console.Error.WriteLine(message);
        return 2;
    }
}
