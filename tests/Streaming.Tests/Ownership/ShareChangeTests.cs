using System.Text.RegularExpressions;
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
/// A <see cref="ShareFollower"/> on the embedded broker, owning every partition of a log of four, when a second member
/// of its group joins and takes some: how often its tail's run stops, and how soon the partitions it keeps go on.
/// </summary>
public sealed class ShareChangeTests(ITestOutputHelper output) : IAsyncLifetime
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    static readonly LogPartitioner Partitioner = new(4, ControlStreamPrefixes.All);
    static readonly TailOptions Quick = new() { PollInterval = TimeSpan.FromMilliseconds(50), TickInterval = TimeSpan.FromMilliseconds(20) };

    readonly FollowerStore _store = new(Partitioner, "share-change");

    EventStreams Streams => _store.Streams;

    public Task InitializeAsync() => _store.InitializeAsync();

    public Task DisposeAsync() => _store.DisposeAsync();

    [Fact]
    public async Task A_member_joining_stops_the_run_once_for_the_partitions_it_takes_and_the_kept_ones_go_on_within_a_second()
    {
        // Given a follower owning every partition, whose fold saved a job's events in each
        var jobs = Enumerable.Range(0, Partitioner.Partitions).Select(p => PartitionedDatabase.JobIn(Partitioner, p)).ToList();
        var counting = new CountingFold(_store.Name);
        var tail = new LogTail(_store.Database.DataSource, [new BufferedFold<CountingFold.Count>(_store.Database.DataSource, counting,
            new FoldOptions { FlushInterval = TimeSpan.FromMilliseconds(20) }, NullLogger.Instance)], Quick, new LoopHealth(), NullLoggerFactory.Instance);
        var group = "share-change-" + Guid.NewGuid().ToString("N");
        using var loggers = LoggerFactory.Create(logging => logging.AddProvider(_store.Logs));
        using var ownership = Member(group, "first", loggers.CreateLogger<PartitionOwnership>());
        var follower = new ShareFollower(tail, ownership, _store.Database.DataSource, TimeSpan.FromSeconds(6), loggers.CreateLogger<ShareFollower>());
        using var stop = new CancellationTokenSource();
        var following = Task.Run(() => follower.RunAsync(stop.Token));
        try
        {
            await Eventually.True(() => Task.FromResult(following.IsCompleted || _store.Logged("the tail follows partitions ").LastOrDefault() == "0,1,2,3"),
                Deadline, "the follower to follow every partition");
            await AppendAsync(jobs, 3);
            await SavedAsync(jobs, 3);

            // When a second member joins, and the group's rebalance ends with each member owning a share
            using var second = Member(group, "second", NullLogger<PartitionOwnership>.Instance);
            await second.StartAsync(Partitioner.Partitions, CancellationToken.None);
            await Eventually.True(() => Task.FromResult(following.IsCompleted
                    || second.Current.Partitions.Count > 0 && ownership.Current.Partitions.Concat(second.Current.Partitions).Order().SequenceEqual(Enumerable.Range(0, Partitioner.Partitions))),
                Deadline, "the two members to split the partitions");
            // The rounds after the revoke assign the follower nothing new (librdkafka's mock cluster holds the last one back a while).
            await Eventually.True(() => Task.FromResult(following.IsCompleted || AssignedNothingAfterTheRevoke() >= 1), Deadline, "a later round to assign the follower nothing new");
            var kept = string.Join(",", ownership.Current.Partitions);

            // Then the follower's run stopped once, for the revoke, and went on over the partitions kept within a second
            Assert.False(following.IsCompleted, "the follower stopped");
            Assert.Equal(["0,1,2,3", kept], _store.Logged("the tail follows partitions ").Select(l => l.Split(' ')[0]));
            var resumed = Assert.Single(_store.Logged("the tail resumed partitions "));
            output.WriteLine($"resumed partitions {resumed}");
            var pause = int.Parse(Regex.Match(resumed, "([0-9]+) ms after").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.StartsWith($"{kept}, which it kept,", resumed, StringComparison.Ordinal);
            Assert.InRange(pause, 0, 1000);

            // And it folds and saves the kept partitions' events on, from the states it saved at the stop, and none of the others'
            await AppendAsync(jobs, 2);
            var ownedNow = ownership.Current.Partitions;
            var keptJobs = jobs.Where(j => ownedNow.Contains(Partitioner.PartitionOf(j))).ToList();
            await SavedAsync(keptJobs, 5);
            foreach (var job in jobs.Except(keptJobs))
            {
                Assert.Equal(3, await CountingFold.CountedAsync(_store.Database.DataSource, _store.Name, job));
            }
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

    PartitionOwnership Member(string group, string instance, ILogger<PartitionOwnership> logger) => new(
        new OwnershipOptions { Enabled = true, Group = group, InstanceId = instance },
        new KafkaOptions { BootstrapServers = _store.Kafka.BootstrapServers, ConsumerSessionTimeout = TimeSpan.FromSeconds(6) },
        "test", logger);

    async Task AppendAsync(IEnumerable<string> jobs, int events)
    {
        foreach (var job in jobs)
        {
            await Streams.AppendToStreamAsync(job, ExpectedVersion.Any, SampleEvents.Events(events), CancellationToken.None);
        }
    }

    async Task SavedAsync(IReadOnlyList<string> jobs, int events)
    {
        foreach (var job in jobs)
        {
            await Eventually.True(async () => await CountingFold.CountedAsync(_store.Database.DataSource, _store.Name, job) == events, Deadline, $"{events} events of {job} saved");
        }
    }

    // The follower's assignments of nothing new since the revoke.
    int AssignedNothingAfterTheRevoke() =>
        _store.Logs.Logger.Entries.Select(e => e.Message).SkipWhile(m => !m.Contains("revoked partitions", StringComparison.Ordinal))
            .Count(m => m.Contains("assigned partitions ;", StringComparison.Ordinal));

}
