using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Hosting.Resilience;
using Streaming.Lifecycle;
using Streaming.Projector.Rebuilding;
using Streaming.Promoter.Backtesting;
using Streaming.Promoter.Decisions;
using Streaming.Promoter.Publishing;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.EndToEnd;

/// <summary>
/// Events already in the store that no fold can apply (written straight into it, as an older build or a hand-made fix
/// could have): each fold records them, skips them for their job only, flags the job, and goes on; live, a rebuild and a
/// backtest agree.
/// </summary>
public sealed class PoisonedEventTests(Pipeline pipeline) : IClassFixture<Pipeline>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    static readonly DateTimeOffset YearOne = new(1, 1, 1, 0, 0, 0, TimeSpan.Zero);

    readonly StoreProbe _store = new(pipeline.Database);

    [Fact]
    public async Task Events_a_fold_cannot_apply_are_recorded_skipped_for_their_job_and_flagged_while_everything_goes_on()
    {
        // Given two jobs with ten healthy minutes in shadow, projected and decided
        const string poisoned = "poison-1", healthy = "poison-2";
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);
        producer.Produce(SignalFactory.Minutes(poisoned, 0, 10, "shadow", SignalFactory.Good).Concat(SignalFactory.Minutes(healthy, 0, 10, "shadow", SignalFactory.Good)));
        await Eventually.Get(() => _store.LastSeqAsync(poisoned), s => s == 10, Timeout, "the first signals to be projected");

        // When events no fold can apply are written into the first job's stream: a signal from year 1, bodies of other
        // shapes, a job id with a lone surrogate, and a phase change that is not one
        var bad = new (string Type, string Data, DateTimeOffset At)[]
        {
            (SignalRecorded.EventType, """{"jobId":"poison-1","seq":11,"emittedAt":"0001-01-01T00:00:00Z","phase":"shadow","metrics":{"error_rate":0}}""", YearOne),
            (SignalRecorded.EventType, "\"not an object\"", SignalFactory.Start.AddMinutes(10)),
            (SignalRecorded.EventType, """{"unexpected":true}""", SignalFactory.Start.AddMinutes(10)),
            (SignalRecorded.EventType, """{"jobId":"\ud800x","seq":12,"emittedAt":"2026-03-02T09:10:00Z","phase":"shadow","metrics":{}}""", SignalFactory.Start.AddMinutes(10)),
            (PhaseChanged.EventType, "[]", SignalFactory.Start.AddMinutes(10)),
        };
        var versions = new List<long>();
        foreach (var (type, data, at) in bad)
        {
            versions.Add(await new EventStreams(pipeline.Database).AppendToStreamAsync(
                poisoned, ExpectedVersion.Any, [new EventToAppend(Guid.NewGuid(), type, data, "{}", at)], CancellationToken.None));
        }
        // and both jobs go on signalling, healthy, past their soak
        producer.Produce(SignalFactory.Minutes(poisoned, 10, 30, "shadow", SignalFactory.Good).Concat(SignalFactory.Minutes(healthy, 10, 30, "shadow", SignalFactory.Good)));

        // Then every fold passes both jobs, and the first job is decided exactly as the second
        foreach (var job in new[] { poisoned, healthy })
        {
            await Eventually.Get(() => _store.LastSeqAsync(job), s => s == 40, Timeout, $"the projection of {job}");
            await Eventually.True(() => _store.HasProcessedAsync(DecisionFold.CheckpointName, job), Timeout, $"the promoter to pass {job}");
            await Eventually.True(() => _store.HasProcessedAsync(PhaseChangeRelay.CheckpointName, job), Timeout, $"the relay to pass {job}");
            await Eventually.True(() => _store.HasProcessedAsync("projector:job-states:g1", job), Timeout, $"the projection to pass {job}'s decision");
        }
        Assert.Equal([SignalFactory.Start.AddMinutes(30)], await DecidedAtAsync(poisoned));
        Assert.Equal(await DecidedAtAsync(healthy), await DecidedAtAsync(poisoned));
        Assert.True(pipeline.DeciderServices.GetRequiredService<LoopHealth>().IsReady, "a loop of the Projector or Promoter is not running");

        // And the first job is flagged poisoned, counted so, and the second is not
        Assert.Contains(LifecycleFlags.Poisoned, await FlagsAsync(poisoned));
        Assert.DoesNotContain(LifecycleFlags.Poisoned, await FlagsAsync(healthy));
        Assert.Equal(1, await ScalarAsync<long>("select coalesce(sum(poisoned), 0) from projections.phase_counts"));

        // And each fold that could not apply an event recorded it once: the projection all five, the decisions the four
        // signals, the relay the phase change
        var recorded = await PoisonedAsync();
        Assert.Equal(versions, recorded.Where(r => r.Fold == "projector:job-states:g1").Select(r => r.Version));
        Assert.Equal(versions.Take(4), recorded.Where(r => r.Fold == DecisionFold.CheckpointName).Select(r => r.Version));
        Assert.Equal(versions.Skip(4), recorded.Where(r => r.Fold == PhaseChangeRelay.CheckpointName).Select(r => r.Version));
        Assert.All(recorded, r => Assert.Equal(poisoned, r.StreamId));
        Assert.Contains("before 2000-01-01", recorded.First(r => r.Version == versions[0]).Error, StringComparison.Ordinal);

        // And a rebuild of the job states, and a backtest of the decisions, skip and flag the same
        var rebuilt = await new JobStateRebuild(pipeline.Database, NullLogger.Instance, batchSize: 5).RunAsync(fresh: true, null, CancellationToken.None);
        Assert.Equal(0L, await _store.DifferingJobStatesAsync(1, rebuilt.Generation));
        var backtest = new Backtest(DefaultPolicies.CdcMigration, null, NullLogger.Instance);
        await BacktestReplay.ReplayAsync(pipeline.Database, backtest, null, useArchive: false, NullLogger.Instance, CancellationToken.None);
        var report = backtest.Report(perJob: false);
        Assert.True(report.BaselineReproducesRecord, $"{report.BaselineMismatches} decisions differ");
        Assert.Equal(4, report.Baseline.Poisoned);
    }

    async Task<List<DateTimeOffset>> DecidedAtAsync(string job)
    {
        await using var command = pipeline.Database.CreateCommand(
            "select event_time from es.events where stream_id = $1 and type = $2 and json_typeof(data) = 'object' order by version");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = job });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = PhaseChanged.EventType });
        var times = new List<DateTimeOffset>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            times.Add(reader.GetFieldValue<DateTimeOffset>(0));
        }
        return times;
    }

    async Task<string[]> FlagsAsync(string job)
    {
        await using var command = pipeline.Database.CreateCommand("select flags from projections.job_states where job_id = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = job });
        return (string[])(await command.ExecuteScalarAsync())!;
    }

    async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = pipeline.Database.CreateCommand(sql);
        return (T)Convert.ChangeType((await command.ExecuteScalarAsync())!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    async Task<List<(string Fold, string StreamId, long Version, string Error)>> PoisonedAsync()
    {
        await using var command = pipeline.Database.CreateCommand(
            "select fold, stream_id, version, error from es.poisoned_events order by fold, tx_id, global_position");
        var rows = new List<(string, string, long, string)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3)));
        }
        return rows;
    }
}
