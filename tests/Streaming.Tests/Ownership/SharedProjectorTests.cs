using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Projector.Rebuilding;
using Streaming.Promoter;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Streaming.Tests.Ownership;

/// <summary>
/// Two Projectors, each its own process, sharing the log's partitions through their group (with Ingest and one Promoter
/// beside them): what each projects, and what the one left does when the other is killed.
/// </summary>
public sealed class SharedProjectorTests(ITestOutputHelper output)
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    static readonly int[] Every = [.. Enumerable.Range(0, PartitionedDatabase.Partitions)];

    [Fact]
    public async Task Two_projectors_split_the_partitions_and_when_one_is_killed_the_other_finishes_every_job_as_one_projector_would()
    {
        // Given two Projectors of one group, each following a share of the partitions
        await using var pipeline = await SharingPipeline.StartAsync(b => b.AddPromoter(), output.WriteLine);
        var first = pipeline.StartOwner("Projector", "projector-1");
        var second = pipeline.StartOwner("Projector", "projector-2");
        await Eventually.True(() => Task.FromResult(Split(FollowedShare.Of(first), FollowedShare.Of(second))), Timeout, "the two Projectors to split the partitions");

        // And 3 jobs in each partition, reporting clean metrics in shadow for 20 minutes of event time, all projected
        var jobs = Every.SelectMany(p => Enumerable.Range(0, 3).Select(_ => PartitionedDatabase.JobIn(p))).ToList();
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);
        producer.Produce(jobs.SelectMany(job => SignalFactory.Minutes(job, 0, 20, "shadow", SignalFactory.Good)));
        var store = new StoreProbe(pipeline.Database);
        await ProjectedAsync(store, jobs, 20);

        // When the first is killed, and the jobs report 20 minutes more (the Promoter promotes each at the 30th)
        var killed = System.Diagnostics.Stopwatch.StartNew();
        await first.KillAsync();
        producer.Produce(jobs.SelectMany(job => SignalFactory.Minutes(job, 20, 20, "shadow", SignalFactory.Good)));

        // Then the second follows every partition within the 15 s (as seen by polling: an upper bound; on the mock
        // cluster a session, then a session less 1 s for the members to rejoin), and projects every job to its last
        // signal and its promotion
        await Eventually.True(() => Task.FromResult(FollowedShare.Of(second).SequenceEqual(Every)), Timeout, "the second Projector to take every partition");
        var takeover = killed.Elapsed;
        output.WriteLine($"the killed Projector's partitions were followed by the other {takeover.TotalSeconds:0.0} s after the kill (session timeout {SharingPipeline.SessionTimeout.TotalSeconds:0} s)");
        Assert.True(takeover <= TimeSpan.FromSeconds(15), $"the takeover took {takeover.TotalSeconds:0.0} s");
        await ProjectedAsync(store, jobs, 40);
        foreach (var job in jobs)
        {
            await Eventually.Get(() => store.PhaseAsync(job), p => p == "reverse_shadow", Timeout, $"the projection of {job}'s promotion");
        }

        // And the job states equal those one Projector makes of the whole log (a rebuild from the log)
        var rebuilt = await new JobStateRebuild(pipeline.Database, NullLogger.Instance).RunAsync(fresh: true, null, CancellationToken.None);
        Assert.Equal(2, rebuilt.Generation);
        Assert.Equal(0L, await store.DifferingJobStatesAsync(1, 2));
        Assert.DoesNotContain("[ERR]", second.Log, StringComparison.Ordinal);
    }

    static bool Split(IReadOnlySet<int> first, IReadOnlySet<int> second) =>
        first.Count > 0 && second.Count > 0 && first.Concat(second).Order().SequenceEqual(Every);

    static async Task ProjectedAsync(StoreProbe store, IEnumerable<string> jobs, long lastSeq)
    {
        foreach (var job in jobs)
        {
            await Eventually.Get(() => store.LastSeqAsync(job), s => s == lastSeq, Timeout, $"the projection of {job}'s signal {lastSeq}");
        }
    }
}
