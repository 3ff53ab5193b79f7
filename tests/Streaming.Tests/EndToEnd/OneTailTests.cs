using Microsoft.Extensions.DependencyInjection;
using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Projections.History;
using Streaming.Projections.Tail;
using Streaming.Promoter.Decisions;
using Streaming.Promoter.Publishing;
using Streaming.Promoter.Shadows;
using Streaming.Projector.JobStates;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.EndToEnd;

/// <summary>The Projector and the Promoter in one process share one reader of the log, which reads each event once.</summary>
public sealed class OneTailTests(Pipeline pipeline) : IClassFixture<Pipeline>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task One_reader_per_process_reads_and_decodes_each_event_once_for_every_fold()
    {
        // Given the Projector and Promoter hosted in one process, and two jobs' history, decided and published
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);
        producer.Produce(SignalFactory.Minutes("one-tail-1", 0, 40, "shadow", SignalFactory.Good).Concat(SignalFactory.Minutes("one-tail-2", 0, 40, "shadow", SignalFactory.Good)));
        var store = new StoreProbe(pipeline.Database);
        foreach (var job in new[] { "one-tail-1", "one-tail-2" })
        {
            // Processed means up to the job's last stored event: its 40 signals and its promotion must be stored first,
            // or the log's count below is taken before the last of them.
            await Eventually.True(async () => await store.CountEventsAsync(job, SignalRecorded.EventType) == 40, Timeout, $"{job}'s 40 signals to be stored");
            await Eventually.True(async () => await store.CountEventsAsync(job, PhaseChanged.EventType) == 1, Timeout, $"{job}'s promotion to be stored");
            await Eventually.True(() => store.HasProcessedAsync(PhaseChangeRelay.CheckpointName, job), Timeout, $"the relay to pass {job}");
            await Eventually.True(() => store.HasProcessedAsync("projector:job-states:g1", job), Timeout, $"the projection to pass {job}");
        }

        // Then the process has one tail, listening on one connection, feeding all five folds
        var tail = Assert.Single(pipeline.DeciderServices.GetServices<LogTail>());
        Assert.Equal(
            [JobStateFold.FoldName, HistoryArchive.CheckpointName, DecisionFold.CheckpointName, ShadowFold.CheckpointName, PhaseChangeRelay.CheckpointName],
            tail.Folds().Select(f => f.Fold));
        await using (var listeners = pipeline.Database.CreateCommand(
            $"select count(*) from pg_stat_activity where datname = current_database() and query = 'listen {EventStoreSchema.NotificationChannel}'"))
        {
            Assert.Equal(1L, (long)(await listeners.ExecuteScalarAsync())!);
        }

        // And it read every event of the log exactly once, none of its folds having had to read on its own
        await using var events = pipeline.Database.CreateCommand("select count(*) from es.events");
        var logged = (long)(await events.ExecuteScalarAsync())!;
        await Eventually.True(() => Task.FromResult(tail.EventsRead == logged), Timeout, $"the tail to have read the {logged} events",
            () => Task.FromResult($"read {tail.EventsRead}"));
        Assert.All(tail.Folds(), f => Assert.Equal(0, f.Detachments));
    }
}
