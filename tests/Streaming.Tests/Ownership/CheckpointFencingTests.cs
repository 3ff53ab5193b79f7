using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Hosting.Kafka;
using Streaming.Hosting.Resilience;
using Streaming.Projections;
using Streaming.Projections.Ownership;
using Streaming.Projections.Tail;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;
using Streaming.Tests.Tail;
using Xunit.Abstractions;

namespace Streaming.Tests.Ownership;

/// <summary>
/// A <see cref="ShareFollower"/>, the one member of its group on the embedded broker, following both partitions of a log
/// of two (a = 1, b = 0) with a buffered fold, when a successor's save moved the fold's checkpoint of a under it: what its
/// own save and the follower do then.
/// </summary>
public sealed class CheckpointFencingTests(ITestOutputHelper output) : IAsyncLifetime
{
    const int A = 1;
    const int B = 0;
    // The fold writes once it has folded this many events since its last write, and on no timer: the test says when.
    const int EventsPerWrite = 5;
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    // Long enough for the run over b alone to write well within it on a loaded machine.
    static readonly TimeSpan FencedFor = TimeSpan.FromSeconds(10);
    static readonly LogPartitioner Partitioner = new(2, ControlStreamPrefixes.All);
    static readonly TailOptions Quick = new() { PollInterval = TimeSpan.FromMilliseconds(50), TickInterval = TimeSpan.FromMilliseconds(20) };

    readonly FollowerStore _store = new(Partitioner, "fenced");

    EventStreams Streams => _store.Streams;

    public Task InitializeAsync() => _store.InitializeAsync();

    public Task DisposeAsync() => _store.DisposeAsync();

    /// <param name="writeAside">Whether the fold writes beside its loop (<see cref="FoldOptions.WriteAside"/>, as the Promoter's does).</param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_partition_whose_checkpoint_a_successor_moved_is_dropped_alone_and_followed_again_from_the_successors_checkpoint_once_fenced_for_has_passed(
        bool writeAside)
    {
        var options = new FoldOptions
        {
            FlushInterval = TimeSpan.MaxValue,
            MaxFlushInterval = TimeSpan.MaxValue,
            MaxEventsPerWrite = EventsPerWrite,
            WriteAside = writeAside,
        };
        var jobA = JobIn(A);
        var jobB = JobIn(B);

        // Given a follower of partitions a and b, whose fold saved 5 events of a job in each
        var counting = new CountingFold(_store.Name);
        var tail = new LogTail(_store.Database.DataSource, [Fold(counting, options)], Quick, new LoopHealth(), NullLoggerFactory.Instance);
        using var ownership = new PartitionOwnership(
            new OwnershipOptions { Enabled = true, Group = "fenced-" + Guid.NewGuid().ToString("N") },
            new KafkaOptions { BootstrapServers = _store.Kafka.BootstrapServers, ConsumerSessionTimeout = TimeSpan.FromSeconds(6) },
            "test", NullLogger<PartitionOwnership>.Instance);
        using var loggers = LoggerFactory.Create(logging => logging.AddProvider(_store.Logs));
        var follower = new ShareFollower(tail, ownership, _store.Database.DataSource, FencedFor, loggers.CreateLogger<ShareFollower>());
        using var stop = new CancellationTokenSource();
        var following = Task.Run(() => follower.RunAsync(stop.Token));
        try
        {
            await Eventually.True(() => Task.FromResult(following.IsCompleted || Followed().LastOrDefault() == "0,1"), Deadline, "the follower to follow partitions 0,1");
            await AppendAsync(jobA, 5);
            var savedA = await SavedAsync(jobA, 5, A);
            await AppendAsync(jobB, 5);
            var savedB = await SavedAsync(jobB, 5, B);

            // And 3 more events of a folded in memory, not written yet
            await AppendAsync(jobA, 3);
            await Eventually.True(() => Task.FromResult(counting.Committed(jobA) == 8), Deadline, "the follower to fold a's 3 new events");
            Assert.Equal(savedA, await CheckpointAsync(A));

            // When a successor of a (an instance of the same fold following a alone) folds them and saves them first
            var successor = new CountingFold(_store.Name);
            var successorTail = new LogTail(_store.Database.DataSource, [Fold(successor, options)], Quick, new LoopHealth(), NullLoggerFactory.Instance);
            await using (new RunningTail(successorTail, FollowedPartitions.Share([A], Partitioner)))
            {
                await Eventually.True(() => Task.FromResult(successor.Committed(jobA) == 8), Deadline, "the successor to fold a's 3 new events");
            }
            var movedA = await CheckpointAsync(A);
            Assert.Equal((await SettledTail.EndAsync(_store.Database.DataSource))[A], movedA);
            Assert.Equal(8, await CountedAsync(jobA));

            // And 2 events of b make the follower write what it holds, a's 3 events among it
            await AppendAsync(jobB, 2);

            // Then its save fails for a: the follower drops a, naming it, and its whole transaction rolled back (b's too)
            await Eventually.True(() => Task.FromResult(following.IsCompleted || Fenced().Count > 0), Deadline, "the follower to drop a fenced partition");
            Assert.False(following.IsCompleted, "the follower stopped");
            Assert.Equal(new[] { $"{_store.Name}'s checkpoint of partitions {A}" }, Fenced());
            Assert.Equal(movedA, await CheckpointAsync(A));
            Assert.Equal(8, await CountedAsync(jobA));
            Assert.Equal(savedB, await CheckpointAsync(B));
            Assert.Equal(5, await CountedAsync(jobB));

            // And it folds b on without a: b's events after the drop are written, a's are not, while the group still assigns a
            await AppendAsync(jobA, 5);
            await AppendAsync(jobB, 3);
            await SavedAsync(jobB, 10, B);
            Assert.Equal("0", Followed().LastOrDefault());
            Assert.Contains(A, ownership.Current.Partitions);
            Assert.Equal(movedA, await CheckpointAsync(A));
            Assert.Equal(8, await CountedAsync(jobA));
            Assert.False(following.IsCompleted, "the follower stopped");

            // And once fenced-for has passed it follows a again from the successor's checkpoint: every event of a counted once
            await SavedAsync(jobA, 13, A, Deadline + FencedFor);
            Assert.Equal(new[] { "0,1", "0", "0,1" }, Followed());
            Assert.Equal(10, await CountedAsync(jobB));
            Assert.Single(Fenced());
            Assert.False(following.IsCompleted, "the follower stopped");
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var (level, message) in _store.Logs.Logger.Entries)
            {
                output.WriteLine($"{level}: {message}");
            }
            await following;
        }
    }

    BufferedFold<CountingFold.Count> Fold(CountingFold counting, FoldOptions options) => new(_store.Database.DataSource, counting, options, NullLogger.Instance);

    static string JobIn(int partition)
    {
        while (true)
        {
            var job = SampleEvents.NewStreamId("job");
            if (Partitioner.PartitionOf(job) == partition)
            {
                return job;
            }
        }
    }

    Task AppendAsync(string streamId, int events) =>
        Streams.AppendToStreamAsync(streamId, ExpectedVersion.Any, SampleEvents.Events(events), CancellationToken.None);

    Task<long> CountedAsync(string streamId) => CountingFold.CountedAsync(_store.Database.DataSource, _store.Name, streamId);

    Task<TailPosition?> CheckpointAsync(int partition) => SettledTail.CheckpointAsync(_store.Database.DataSource, _store.Name, partition);

    // Waits until the fold has written the job's count and its checkpoint of the job's partition at the end of that partition.
    async Task<TailPosition> SavedAsync(string streamId, long events, int partition, TimeSpan? deadline = null)
    {
        var end = (await SettledTail.EndAsync(_store.Database.DataSource))[partition];
        await Eventually.True(async () => await CountedAsync(streamId) == events && await CheckpointAsync(partition) == end,
            deadline ?? Deadline, $"{events} events of {streamId} saved with the checkpoint of partition {partition}");
        return end;
    }

    // The partitions each run of the follower's tail followed, in order.
    List<string> Followed() => _store.Logged("the tail follows partitions ");

    // The checkpoints the follower found moved, by fold and partitions.
    List<string> Fenced() =>
        [.. _store.Logs.Logger.Entries.Where(e => e.Message.Contains(" was moved by another instance", StringComparison.Ordinal))
            .Select(e => e.Message[..e.Message.IndexOf(" was moved", StringComparison.Ordinal)])];

}
