using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Streaming.Contracts;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.PhaseChanges;
using Streaming.EventStore;
using Streaming.Hosting.Resilience;
using Streaming.Lifecycle;
using Streaming.Projector.Rebuilding;
using Streaming.Promoter.Backtesting;
using Streaming.Promoter.Decisions;
using Streaming.Promoter.Publishing;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Faults;

/// <summary>
/// Jobs signalling once a minute, written straight into the store a minute at a time (as Ingest would, one transaction
/// for all the jobs of a minute), retried while the database is away; half of them healthy (each promoted once, at the
/// end of its soak), half failing shadow. And what an uninterrupted run of the same history gives, to compare with.
/// </summary>
public sealed class SignallingFleet(NpgsqlDataSource dataSource, string prefix, int jobs)
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    public IReadOnlyList<string> Jobs { get; } = [.. Enumerable.Range(1, jobs).Select(i => $"{prefix}-{i}")];

    public IEnumerable<string> Healthy => Jobs.Where((_, i) => i % 2 == 0);

    /// <summary>Writes the minutes in [<paramref name="from"/>, <paramref name="to"/>), each retried until the store takes it.</summary>
    public async Task WriteAsync(int from, int to)
    {
        var streams = new EventStreams(dataSource);
        for (var minute = from; minute < to; minute++)
        {
            var at = SignalFactory.Start.AddMinutes(minute);
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await streams.InTransactionAsync(async transaction =>
                    {
                        await EventStreams.LockAsync(transaction, Jobs, CancellationToken.None);
                        for (var i = 0; i < Jobs.Count; i++)
                        {
                            var signal = new SignalRecorded(Jobs[i], minute + 1, at, "shadow", i % 2 == 0 ? SignalFactory.Good : SignalFactory.BadChecksums,
                                new Dictionary<string, string> { ["team"] = "faults" }, $"corr-{Jobs[i]}-{minute + 1}");
                            await streams.AppendOnceAsync(transaction, Jobs[i],
                                new EventToAppend(EventIds.ForSignal(Jobs[i], minute + 1), SignalRecorded.EventType, ContractsJson.Serialize(signal), "{}", at),
                                CancellationToken.None);
                        }
                        return true;
                    }, CancellationToken.None);
                    break;
                }
                catch (Exception e) when (TransientFaults.IsTransient(e))
                {
                    await Task.Delay(Backoff.Delay(attempt, TimeSpan.FromSeconds(1)));
                }
            }
        }
    }

    /// <summary>Waits until the projection, the decisions and the relay have passed every event of every job.</summary>
    public async Task ProcessedAsync(int minutes)
    {
        var store = new StoreProbe(dataSource);
        foreach (var job in Jobs)
        {
            await Eventually.Get(() => store.LastSeqAsync(job), s => s == minutes, Timeout, $"the projection of {job}");
            await Eventually.True(() => store.HasProcessedAsync(DecisionFold.CheckpointName, job), Timeout, $"the promoter to pass {job}");
            await Eventually.True(() => store.HasProcessedAsync(PhaseChangeRelay.CheckpointName, job), Timeout, $"the relay to pass {job}");
        }
        foreach (var job in Jobs)
        {
            await Eventually.True(() => store.HasProcessedAsync("projector:job-states:g1", job), Timeout, $"the projection to pass {job}'s decision");
        }
    }

    /// <summary>
    /// What an uninterrupted run gives: each healthy job promoted once, at minute 30; the job states rebuilt from the log
    /// equal to the live ones; the recorded policies replayed over the log reproduce every decision recorded; every
    /// decision recorded reached the broker.
    /// </summary>
    public async Task AssertAsAnUninterruptedRunAsync(IEnumerable<PhaseChangedMessage> published)
    {
        var decided = (await DecisionsAsync()).OrderBy(d => d.JobId, StringComparer.Ordinal).ToList();
        Assert.Equal(Healthy.Order(StringComparer.Ordinal).Select(j => (j, SignalFactory.Start.AddMinutes(30))), decided.Select(d => (d.JobId, d.DecidedAt)));
        var rebuilt = await new JobStateRebuild(dataSource, NullLogger.Instance, batchSize: 50).RunAsync(fresh: true, null, CancellationToken.None);
        Assert.Equal(0L, await new StoreProbe(dataSource).DifferingJobStatesAsync(1, rebuilt.Generation));
        var backtest = new Backtest(DefaultPolicies.CdcMigration, null, NullLogger.Instance);
        await BacktestReplay.ReplayAsync(dataSource, backtest, null, useArchive: false, NullLogger.Instance, CancellationToken.None);
        var report = backtest.Report(perJob: false);
        Assert.True(report.BaselineReproducesRecord, $"{report.BaselineMismatches} decisions differ from a replay of the log");
        await AssertPublishedAsync(published);
    }

    /// <summary>Every decision recorded for these jobs reached the broker (at least once), and nothing else for them did.</summary>
    public async Task AssertPublishedAsync(IEnumerable<PhaseChangedMessage> published)
    {
        var decided = await DecisionsAsync();
        Assert.Equal(decided.Select(d => d.EventId).Order(), published.Where(m => Jobs.Contains(m.JobId)).Select(m => m.EventId).Distinct().Order());
    }

    /// <summary>The phase changes on the topic, read until at least <paramref name="atLeast"/> distinct ones are there.</summary>
    public static List<PhaseChangedMessage> Published(string bootstrapServers, int atLeast)
    {
        using var reader = new TopicReader(bootstrapServers, Topics.PhaseChanges, 4);
        return [.. reader.ReadUntil(m => m.Select(Read).Select(c => c.EventId).Distinct().Count() >= atLeast, Timeout, "the published decisions")
            .Select(Read)];
    }

    static PhaseChangedMessage Read(Confluent.Kafka.ConsumeResult<byte[]?, byte[]?> message) =>
        ContractsJson.Deserialize<PhaseChangedMessage>(System.Text.Encoding.UTF8.GetString(message.Message.Value!));

    async Task<List<PhaseChanged>> DecisionsAsync()
    {
        await using var command = dataSource.CreateCommand(
            "select data::text from es.events where type = $1 and starts_with(stream_id, $2) order by stream_id, version");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = PhaseChanged.EventType });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = prefix + "-" });
        var decisions = new List<PhaseChanged>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            decisions.Add(ContractsJson.Deserialize<PhaseChanged>(reader.GetString(0)));
        }
        return decisions;
    }
}
