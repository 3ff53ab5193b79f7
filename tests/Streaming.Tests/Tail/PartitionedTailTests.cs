using Microsoft.Extensions.Logging.Abstractions;
using Streaming.EventStore;
using Streaming.Hosting.Resilience;
using Streaming.Projections;
using Streaming.Projections.History;
using Streaming.Projections.Tail;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Tail;

/// <summary>The process's tail over a store of <see cref="PartitionedDatabase.Partitions"/> log partitions: one reader of all of them, each fold with a checkpoint per partition.</summary>
public sealed class PartitionedTailTests(PartitionedDatabase database) : IClassFixture<PartitionedDatabase>, IAsyncLifetime
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    static readonly int[] All = [.. Enumerable.Range(0, PartitionedDatabase.Partitions)];
    readonly string _name = "partitioned-" + Guid.NewGuid().ToString("N");

    EventStreams Streams => new(database.DataSource);

    public async Task InitializeAsync()
    {
        await HandledEvents.CreateAsync(database.DataSource);
        await CountingFold.CreateTableAsync(database.DataSource);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Folds_restarted_mid_stream_resume_from_their_checkpoint_in_every_partition_and_fold_each_event_once()
    {
        // Given a job in each partition with 10 events, folded by a transactional fold, a buffered per-job fold and the
        // history archive (blocks of 4)
        var jobs = All.Select(PartitionedDatabase.JobIn).ToList();
        await AppendAsync(jobs, 10);
        var first = Fold();
        var firstArchive = new HistoryArchive(database.DataSource, NullLogger.Instance, blockSize: 4);
        await RunUntilAsync([first, Counting(), firstArchive], () => DoneAsync(jobs, 10));

        // When every job gets 5 more events while they are stopped, and they start again
        await AppendAsync(jobs, 5);
        var resumed = Fold();
        var counting = Counting();
        var archive = new HistoryArchive(database.DataSource, NullLogger.Instance, blockSize: 4);
        await RunUntilAsync([resumed, counting, archive], () => DoneAsync(jobs, 15));

        // Then each job's events were handled once each, in version order (the table's key refuses a second time), and
        // the resumed instance was handed only the new ones: it resumed from its checkpoint in every partition
        foreach (var job in jobs)
        {
            Assert.Equal(Enumerable.Range(1, 15).Select(v => (long)v), await HandledVersionsAsync(job));
        }
        Assert.Equal(20, resumed.Handled);
        Assert.Equal(20, counting.Handled);
        foreach (var job in jobs)
        {
            Assert.Equal(15, await CountingFold.CountedAsync(database.DataSource, Counted, job));
        }

        // And their checkpoints are at the end of every partition's tail
        var end = await SettledTail.EndAsync(database.DataSource);
        foreach (var partition in All)
        {
            Assert.Equal(end[partition], await SettledTail.CheckpointAsync(database.DataSource, _name, partition));
            Assert.Equal(end[partition], await SettledTail.CheckpointAsync(database.DataSource, Counted, partition));
        }

        // And the archive holds each partition's events in blocks of that partition, each event once, in commit order
        var blocks = await HistoryArchive.ReadAsync(database.DataSource, LogPositions.Start(All), 100, NullLogger.Instance, CancellationToken.None);
        var archived = blocks.SelectMany(b => b.Events.Select(e => (Block: b.Partition, e.Event.Partition, e.Event.StreamId, e.Event.Version, e.Position))).ToList();
        Assert.All(archived, e => Assert.Equal(e.Block, e.Partition));
        Assert.Equal(archived.Count, archived.Select(e => (e.StreamId, e.Version)).Distinct().Count());
        foreach (var partition in archived.GroupBy(e => e.Partition))
        {
            Assert.Equal(partition.Select(e => e.Position).Order(), partition.Select(e => e.Position));
        }
        foreach (var job in jobs)
        {
            // Whole blocks only: at least 12 of a job's 15 events (3 blocks of its partition), from its first, in version order.
            var versions = archived.Where(e => e.StreamId == job).Select(e => e.Version).ToList();
            Assert.Equal(Enumerable.Range(1, versions.Count).Select(v => (long)v), versions);
            Assert.InRange(versions.Count, 12, 15);
        }
    }

    [Fact]
    public async Task A_transaction_holding_partition_1s_head_does_not_delay_partition_2s_events_reaching_a_fold()
    {
        // Given a fold following every partition
        var fold = Fold();
        await using var running = new RunningTail(Tail([fold]));

        // And a transaction that appended to a job of partition 1 and holds its head, uncommitted
        await using var held = await HeldPartitionHead.TakeAsync(database.DataSource, 1);

        // When a job of partition 2 appends and commits
        var two = PartitionedDatabase.JobIn(2);
        await Streams.AppendToStreamAsync(two, ExpectedVersion.Any, SampleEvents.Events(3), CancellationToken.None).WaitAsync(Deadline);

        // Then the fold handles it while partition 1's transaction is still open
        await Eventually.True(async () => running.Run.IsCompleted || (await HandledVersionsAsync(two)).Count == 3, Deadline, "partition 2's events in the fold");
        Assert.Equal([1L, 2L, 3L], await HandledVersionsAsync(two));
        Assert.True(held.Holding);
    }

    async Task AppendAsync(IEnumerable<string> jobs, int events)
    {
        foreach (var job in jobs)
        {
            for (var i = 0; i < events; i += 5)
            {
                await Streams.AppendToStreamAsync(job, ExpectedVersion.Any, SampleEvents.Events(Math.Min(5, events - i)), CancellationToken.None);
            }
        }
    }

    TransactionalFold Fold() => new(database.DataSource, _name,
        (events, transaction, token) => HandledEvents.RecordAsync(_name, events, transaction, token), writeInterval: TimeSpan.FromMilliseconds(20));

    string Counted => _name + ":counted";

    BufferedFold<CountingFold.Count> Counting() => new(database.DataSource, new CountingFold(Counted), new FoldOptions { FlushInterval = TimeSpan.FromMilliseconds(20) }, NullLogger.Instance);

    LogTail Tail(IEnumerable<ILogFold> folds) => new(database.DataSource, folds,
        new TailOptions { ReadBatchSize = 3, PollInterval = TimeSpan.FromMilliseconds(50), TickInterval = TimeSpan.FromMilliseconds(20) },
        new LoopHealth(), NullLoggerFactory.Instance);

    async Task RunUntilAsync(IEnumerable<ILogFold> folds, Func<Task<bool>> done)
    {
        await using var running = new RunningTail(Tail(folds));
        await Eventually.True(async () => running.Run.IsCompleted || await done(), Deadline, "the folds to handle the events");
    }

    // Every job's events handled by the transactional fold, and counted and written by the buffered one.
    async Task<bool> DoneAsync(IEnumerable<string> jobs, int count)
    {
        foreach (var job in jobs)
        {
            if ((await HandledVersionsAsync(job)).Count < count || await CountingFold.CountedAsync(database.DataSource, Counted, job) < count)
            {
                return false;
            }
        }
        return true;
    }

    Task<List<long>> HandledVersionsAsync(string streamId) => HandledEvents.VersionsAsync(database.DataSource, _name, streamId);
}
