using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Projections.History;
using Streaming.Projector.Rebuilding;
using Streaming.Promoter.Decisions;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Projections;

public sealed class ArchivedRebuildTests(Pipeline pipeline) : IClassFixture<Pipeline>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_rebuild_from_the_history_archive_and_the_rest_of_the_log_equals_the_live_projection()
    {
        // Given 20 jobs with an hour of history, half of them failing shadow, projected and decided live
        var jobs = Enumerable.Range(1, 20).Select(i => $"archived-{i}").ToList();
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);
        producer.Produce(Enumerable.Range(0, 60).SelectMany(m => jobs.Select((j, i) =>
            SignalFactory.Signal(j, m + 1, SignalFactory.Start.AddMinutes(m), "shadow", i % 2 == 0 ? SignalFactory.Good : SignalFactory.BadChecksums))));
        var store = new StoreProbe(pipeline.Database);
        foreach (var job in jobs)
        {
            await Eventually.Get(() => store.LastSeqAsync(job), s => s == 60, Timeout, $"the projection of {job}");
            await Eventually.True(() => store.HasProcessedAsync(DecisionFold.CheckpointName, job), Timeout, $"the promoter to pass {job}");
        }
        // The decisions are appended after the signals: the live projection must have passed them too
        foreach (var job in jobs)
        {
            await Eventually.True(() => store.HasProcessedAsync("projector:job-states:g1", job), Timeout, $"the projection to pass {job}'s decisions");
        }

        // And the history archive holds most of it, in blocks of 100
        var archived = await new HistoryArchive(pipeline.Database, NullLogger.Instance, blockSize: 100).CatchUpAsync(CancellationToken.None);
        Assert.True(archived >= 1_200, $"{archived} events archived");

        // When the job states are rebuilt into a new generation, in batches of 7
        var result = await new JobStateRebuild(pipeline.Database, NullLogger.Instance, batchSize: 7).RunAsync(fresh: true, null, CancellationToken.None);

        // Then it read the archive first and the rest from the log, and holds exactly what the live generation holds
        Assert.Equal(archived, result.FromArchive);
        Assert.True(result.Events > archived, $"{result.Events} events replayed");
        Assert.Equal(2, result.Generation);
        Assert.Equal(0L, await store.DifferingJobStatesAsync(1, 2));
    }
}
