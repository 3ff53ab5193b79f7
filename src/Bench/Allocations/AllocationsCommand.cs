using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Spectre.Console;
using Streaming.Contracts.History;
using Streaming.Contracts.Signals;
using Streaming.EventStore;
using Streaming.Ingest.Appending;
using Streaming.Lifecycle;
using Streaming.LifecycleEvents;
using Streaming.Projections.History;
using Streaming.Projections.Tail;
using Streaming.Projector.JobStates;
using Streaming.Promoter.Decisions;

namespace Streaming.Bench.Allocations;

/// <summary>
/// <c>bench allocations [--jobs N] [--warm-up-minutes N] [--minutes N]</c>: the per-signal path of the all-in-one process
/// run in process, stage by stage, on the same signals every run (<see cref="FoldWorkload"/>, governed by the built-in
/// <c>cdc-migration</c> policy): Ingest's read and append preparation, the tail's decoding, the Projector's and the
/// Promoter's folds, the history archive's encoding, and the rows each fold's state write prepares (every job changed
/// once a write, as in the benches' fleets). Prints bytes allocated (exact: the same code gives the same figure) and CPU
/// µs per signal; needs no server. The warm-up fills every job's window before anything is counted.
/// </summary>
static class AllocationsCommand
{
    public static Task<int> RunAsync(string[] args)
    {
        var flags = new BenchFlags(args);
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = 200;
        }
        var workload = new FoldWorkload(flags.Number("jobs", 2_000, least: 1), new DateTimeOffset(2026, 2, 2, 0, 0, 0, TimeSpan.Zero));
        var warmUp = flags.Number("warm-up-minutes", 60, least: 0);
        var minutes = flags.Number("minutes", 30, least: 1);
        var stages = Run(workload, warmUp, minutes);
        Print(stages, workload, warmUp, minutes);
        return Task.FromResult(0);
    }

    static StageCost[] Run(FoldWorkload workload, int warmUp, int minutes)
    {
        var ingest = new StageCost("Ingest: read against the contract, prepare the append (JobSignalReader, SignalToAppend)");
        var decode = new StageCost("tail: decode the stored body (EventDecoder)");
        var projector = new StageCost("Projector: job-state fold (JobStateProjection.Apply)");
        var promoter = new StageCost("Promoter: decision fold (DecisionEngine.Apply)");
        var archive = new StageCost("history archive: encode into blocks of 2,000 (HistoryBlockBuilder)");
        var projectorRows = new StageCost("Projector: state write's rows, per changed job (JobStateRows)");
        var promoterRows = new StageCost("Promoter: state write's rows, per changed job (DecisionStateTable.Rows)");

        using var dataSource = NpgsqlDataSource.Create("Host=localhost;Database=unused");
        var policies = new ActivePolicies(NullLogger.Instance);
        policies.Substitute(DefaultPolicies.CdcMigration);
        var projection = new JobStateProjection(dataSource, policies, new KnownIssues(),
            new JobStateGeneration(1));
        var enginePolicies = new ActivePolicies(NullLogger.Instance);
        enginePolicies.Substitute(DefaultPolicies.CdcMigration);
        var engine = new DecisionEngine(enginePolicies, new KnownIssues(), NullLogger.Instance);
        var decoder = new EventDecoder();
        var views = new Dictionary<string, JobStateView>(StringComparer.Ordinal);
        var lifecycles = new Dictionary<string, JobLifecycle>(StringComparer.Ordinal);
        var builder = new HistoryBlockBuilder();
        var jobs = workload.Jobs;
        var messages = new byte[jobs][];
        var appends = new SignalToAppend[jobs];
        var envelopes = new RecordedEvent[jobs];
        var events = new LogEvent[jobs];
        var changedViews = new KeyValuePair<string, JobStateView>[jobs];
        var changedLifecycles = new KeyValuePair<string, JobLifecycle>[jobs];
        long position = 0;
        for (var minute = 0; minute < warmUp + minutes; minute++)
        {
            var counted = minute >= warmUp;
            for (var job = 0; job < jobs; job++)
            {
                messages[job] = workload.Message(job, minute);
            }
            ingest.Measure(jobs, counted, () =>
            {
                for (var job = 0; job < jobs; job++)
                {
                    var read = JobSignalReader.Read(workload.Key(job), messages[job]);
                    appends[job] = SignalToAppend.Of(read, messages[job]);
                }
            });
            // As the tail reads them: one commit a minute, the body left as bytes.
            var committedAt = workload.At(minute).AddSeconds(1);
            for (var job = 0; job < jobs; job++)
            {
                var append = appends[job];
                envelopes[job] = new RecordedEvent(++position, minute + 1, append.StreamId, minute + 1, append.EventId, append.Type, "", null,
                    append.Seq, append.EventTime, committedAt) { CommittedAt = committedAt };
            }
            decode.Measure(jobs, counted, () =>
            {
                for (var job = 0; job < jobs; job++)
                {
                    events[job] = decoder.Decode(envelopes[job], appends[job].Data.Span);
                }
            });
            projector.Measure(jobs, counted, () =>
            {
                foreach (var logEvent in events)
                {
                    ref var view = ref CollectionsMarshal.GetValueRefOrAddDefault(views, logEvent.StreamId, out _);
                    view = projection.Apply(view ?? projection.Create(logEvent.StreamId), logEvent);
                }
            });
            promoter.Measure(jobs, counted, () =>
            {
                foreach (var logEvent in events)
                {
                    ref var lifecycle = ref CollectionsMarshal.GetValueRefOrAddDefault(lifecycles, logEvent.StreamId, out _);
                    var (next, outcome) = engine.Apply(lifecycle ?? JobLifecycleDecider.Initial(logEvent.StreamId), logEvent);
                    lifecycle = next;
                    if (!outcome.IsEmpty)
                    {
                        throw new InvalidOperationException($"the bench's jobs are never to be decided on, but {logEvent.StreamId} was");
                    }
                }
            });
            archive.Measure(jobs, counted, () =>
            {
                foreach (var logEvent in events)
                {
                    if (builder.Count == HistoryArchive.DefaultBlockSize)
                    {
                        builder.Finish();
                        builder.Dispose();
                        builder = new HistoryBlockBuilder();
                    }
                    builder.Add(logEvent);
                }
            });
            for (var job = 0; job < jobs; job++)
            {
                var jobId = workload.JobId(job);
                changedViews[job] = new(jobId, views[jobId]);
                changedLifecycles[job] = new(jobId, lifecycles[jobId]);
            }
            projectorRows.Measure(jobs, counted, () => projection.PrepareSave(changedViews));
            promoterRows.Measure(jobs, counted, () => DecisionStateTable.Rows(changedLifecycles, engine.Fleet));
        }
        builder.Dispose();
        return [ingest, decode, projector, promoter, archive, projectorRows, promoterRows];
    }

    static void Print(StageCost[] stages, FoldWorkload workload, int warmUp, int minutes)
    {
        var table = new Table().AddColumns("stage", "bytes / signal", "CPU µs / signal", "wall µs / signal");
        foreach (var stage in stages)
        {
            table.AddRow(Markup.Escape(stage.Name), stage.BytesPerItem.ToString("N0", CultureInfo.InvariantCulture),
                stage.CpuMicrosecondsPerItem.ToString("0.0", CultureInfo.InvariantCulture),
                (stage.Wall.TotalMicroseconds / stage.Items).ToString("0.0", CultureInfo.InvariantCulture));
        }
        table.AddRow("[bold]all[/]", stages.Sum(s => s.BytesPerItem).ToString("N0", CultureInfo.InvariantCulture),
            stages.Sum(s => s.CpuMicrosecondsPerItem).ToString("0.0", CultureInfo.InvariantCulture),
            stages.Sum(s => s.Wall.TotalMicroseconds / s.Items).ToString("0.0", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"{workload.Jobs:N0} jobs, {minutes} simulated minutes counted after {warmUp} of warm-up ({(long)workload.Jobs * minutes:N0} signals a stage); collections over the whole run: gen0 {GC.CollectionCount(0)}, gen1 {GC.CollectionCount(1)}, gen2 {GC.CollectionCount(2)}"));
    }
}
