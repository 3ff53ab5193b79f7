using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Hosting.Resilience;
using Streaming.Projections;
using Streaming.Projections.Tail;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;
using Streaming.Tests.Tail;

namespace Streaming.Tests.Ownership;

/// <summary>The process's tail over a share of the log's partitions without partition 0, where the control streams live.</summary>
public sealed class ShareTailTests(PartitionedDatabase database) : IClassFixture<PartitionedDatabase>, IAsyncLifetime
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    static readonly int[] Share = [1, 3];
    readonly string _name = "share-" + Guid.NewGuid().ToString("N");

    EventStreams Streams => new(database.DataSource);

    string Counted => _name + ":counted";

    public async Task InitializeAsync()
    {
        await HandledEvents.CreateAsync(database.DataSource);
        await CountingFold.CreateTableAsync(database.DataSource);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Folds_over_a_share_fold_its_partitions_jobs_and_partition_0s_control_events_alone_and_save_no_checkpoint_of_the_others()
    {
        // Given a job in every partition with 5 events, partition 0's job with 10 more (more than a read takes), and then
        // a policy published (a control stream, in partition 0)
        var jobs = Enumerable.Range(0, PartitionedDatabase.Partitions).Select(PartitionedDatabase.JobIn).ToList();
        foreach (var job in jobs)
        {
            await Streams.AppendToStreamAsync(job, ExpectedVersion.Any, SampleEvents.Events(5), CancellationToken.None);
        }
        await Streams.AppendToStreamAsync(jobs[0], ExpectedVersion.Any, SampleEvents.Events(5), CancellationToken.None);
        await Streams.AppendToStreamAsync(jobs[0], ExpectedVersion.Any, SampleEvents.Events(5), CancellationToken.None);
        var policy = PolicyPublished.StreamPrefix + Guid.NewGuid().ToString("N");
        await Streams.AppendToStreamAsync(policy, ExpectedVersion.Any, SampleEvents.Events(2), CancellationToken.None);

        // When a transactional fold and a buffered per-job fold follow the share of partitions 1 and 3
        var fold = new TransactionalFold(database.DataSource, _name,
            (events, transaction, token) => HandledEvents.RecordAsync(_name, events, transaction, token), writeInterval: TimeSpan.FromMilliseconds(20));
        var counting = new BufferedFold<CountingFold.Count>(database.DataSource, new CountingFold(Counted), new FoldOptions { FlushInterval = TimeSpan.FromMilliseconds(20) }, NullLogger.Instance);
        var tail = new LogTail(database.DataSource, [fold, counting],
            new TailOptions { ReadBatchSize = 3, PollInterval = TimeSpan.FromMilliseconds(50), TickInterval = TimeSpan.FromMilliseconds(20) },
            new LoopHealth(), NullLoggerFactory.Instance);
        await using (var running = new RunningTail(tail, FollowedPartitions.Share(Share, PartitionedDatabase.Partitioner)))
        {
            await Eventually.True(async () => running.Run.IsCompleted
                    || (await HandledVersionsAsync(jobs[1])).Count == 5 && (await HandledVersionsAsync(jobs[3])).Count == 5 && (await HandledVersionsAsync(policy)).Count == 2
                    && await CountingFold.CountedAsync(database.DataSource, Counted, jobs[3]) == 5,
                Deadline, "the share's events and the policy in the folds");
        }

        // Then the folds were handed their partitions' jobs and partition 0's control stream, nothing of the others' jobs
        Assert.Empty(await HandledVersionsAsync(jobs[0]));
        Assert.Empty(await HandledVersionsAsync(jobs[2]));
        Assert.Equal(5, await CountingFold.CountedAsync(database.DataSource, Counted, jobs[1]));
        Assert.Equal(0, await CountingFold.CountedAsync(database.DataSource, Counted, jobs[0]));

        // And each saved the checkpoints of its share at the end of those partitions, and none of partitions 0 and 2
        var end = await SettledTail.EndAsync(database.DataSource);
        foreach (var name in new[] { _name, Counted })
        {
            Assert.Equal(end[1], await SettledTail.CheckpointAsync(database.DataSource, name, 1));
            Assert.Equal(end[3], await SettledTail.CheckpointAsync(database.DataSource, name, 3));
            Assert.Null(await SettledTail.CheckpointAsync(database.DataSource, name, 0));
            Assert.Null(await SettledTail.CheckpointAsync(database.DataSource, name, 2));
        }
    }

    Task<List<long>> HandledVersionsAsync(string streamId) => HandledEvents.VersionsAsync(database.DataSource, _name, streamId);
}
