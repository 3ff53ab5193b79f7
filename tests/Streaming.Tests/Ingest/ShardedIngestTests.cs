using System.Text;
using System.Text.RegularExpressions;
using Npgsql;
using Streaming.Contracts;
using Streaming.Contracts.History;
using Streaming.Embedded.Broker;
using Streaming.EventStore;
using Streaming.Hosting.Resilience;
using Streaming.Ingest.DeadLetters;
using Streaming.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Streaming.Tests.Ingest;

/// <summary>
/// Ingest over a store sharded on two PostgreSQL servers of the test's own (<see cref="IngestShards"/>, 4 partitions: shard
/// 0 holds 0 and 2, shard 1 holds 1 and 3), on an embedded broker of its own.
/// </summary>
public sealed partial class ShardedIngestTests(ITestOutputHelper output)
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    static readonly TimeSpan OutageLength = TimeSpan.FromSeconds(10);
    // Longer than shard 1 takes to come back and its partitions to be read again.
    static readonly TimeSpan LateLookup = TimeSpan.FromSeconds(15);
    // Longer than a shard takes to stop.
    static readonly TimeSpan LateAssignment = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Stores_every_signal_exactly_once_on_the_shard_of_its_partition_and_nothing_on_the_other()
    {
        // Given two shards and an Ingest of two consumers over them
        await using var shards = new IngestShards();
        await shards.StartAsync();
        await using var ingest = new StandaloneIngest(shards.Server(0).ConnectionString, IngestShards.Partitions, shards.IngestSettings(consumers: 2));
        await ingest.StartAsync();

        // When 5 jobs of each partition send 6 signals each, on their partition, twice over (the second time all duplicates)
        var jobs = IngestShards.Jobs("sharded", perPartition: 5);
        for (var copy = 0; copy < 2; copy++)
        {
            foreach (var partition in Enumerable.Range(0, IngestShards.Partitions))
            {
                ingest.Produce(jobs.Where(j => j.Partition == partition).SelectMany(j => IngestProbe.Signals(j.Job, 1, 6)), partition);
            }
        }

        // Then each shard holds exactly its partitions' signals, once each, and the offsets of its partitions only
        var expectedOffsets = Enumerable.Range(0, IngestShards.Partitions).ToDictionary(p => p, p => 2L * 6 * jobs.Count(j => j.Partition == p));
        foreach (var shard in new[] { 0, 1 })
        {
            var own = expectedOffsets.Where(o => o.Key % 2 == shard).ToDictionary();
            await Eventually.Get(() => shards.OffsetsAsync(shard), offsets => own.All(o => offsets.GetValueOrDefault(o.Key) == o.Value), Timeout,
                $"shard {shard}'s offsets to reach the ends of its partitions");
            Assert.Equal(own, await shards.OffsetsAsync(shard));
            var expected = 6L * jobs.Count(j => j.Partition % 2 == shard);
            Assert.Equal((expected, expected, $"{shard},{shard + 2}"), await shards.StoredAsync(shard, "sharded"));
        }
        Assert.Equal(0, ingest.Counters.DeadLettered);
        Assert.Equal(jobs.Count * 6L, ingest.Counters.Duplicates);
    }

    [Theory]
    [InlineData(null, "Store:Shards is 2, so Store:LogPartitions is required")]
    [InlineData("1", "Store:Shards is 2 but Store:LogPartitions only 1")]
    public async Task Two_shards_without_at_least_two_log_partitions_refuse_to_start(string? logPartitions, string message)
    {
        await using var ingest = new StandaloneIngest("Host=127.0.0.1;Port=1", IngestShards.Partitions, new Dictionary<string, string?>
        {
            ["Store:Shards"] = "2",
            ["Store:LogPartitions"] = logPartitions,
            ["ConnectionStrings:EventStoreShard1"] = "Host=127.0.0.1;Port=2",
        });
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(ingest.StartAsync);
        Assert.StartsWith(message, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_shard_is_migrated_and_a_shard_whose_store_has_another_partition_count_refuses_the_start()
    {
        await using var shards = new IngestShards();
        await shards.StartAsync();
        // Given shard 1 created earlier with 2 log partitions
        await EventStoreSchema.MigrateAsync(shards.Shard(1), [], new LogPartitioner(2, ControlStreamPrefixes.All), CancellationToken.None);

        // When a process of 2 shards and 4 partitions starts, then it migrates shard 0 and refuses shard 1, naming both counts
        await using var ingest = new StandaloneIngest(shards.Server(0).ConnectionString, IngestShards.Partitions, shards.IngestSettings(consumers: 1));
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(ingest.StartAsync);
        Assert.StartsWith("The store's log has 2 partitions, not the 4 configured", refused.Message, StringComparison.Ordinal);
        await using var partitions = shards.Shard(0).CreateCommand("select partitions from es.log_partitioning");
        Assert.Equal(4, await partitions.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Two_shards_refuse_a_topic_with_another_partition_count_than_the_log()
    {
        await using var shards = new IngestShards();
        await shards.StartAsync();
        await using var ingest = new StandaloneIngest(shards.Server(0).ConnectionString, partitions: 3, shards.IngestSettings(consumers: 1));
        await ingest.StartAsync();
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => ingest.Run.WaitAsync(Timeout));
        Assert.StartsWith("'job-signals' has 3 partitions and the store's log 4", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dead_letters_a_signal_sent_to_a_partition_of_another_shard_than_its_jobs_and_stores_one_sent_to_another_partition_of_its_shard()
    {
        await using var shards = new IngestShards();
        await shards.StartAsync();
        await using var ingest = new StandaloneIngest(shards.Server(0).ConnectionString, IngestShards.Partitions, shards.IngestSettings(consumers: 1));
        await ingest.StartAsync();
        var jobs = IngestShards.Jobs("miskeyed", perPartition: 1);
        var (ofPartition1, ofPartition2) = (jobs.Single(j => j.Partition == 1).Job, jobs.Single(j => j.Partition == 2).Job);

        // When a job of partition 1 (shard 1) and one of partition 2 (shard 0) are both sent on partition 0 (shard 0)
        ingest.Produce([.. IngestProbe.Signals(ofPartition1, 1, 1), .. IngestProbe.Signals(ofPartition2, 1, 1)], partition: 0);

        // Then the first is dead-lettered with the reason, the second stored on shard 0 in its own partition, 2
        using var reader = new TopicReader(ingest.Kafka.BootstrapServers, Topics.SignalsDeadLetter, IngestShards.Partitions);
        var letter = reader.ReadUntil(m => m.Count > 0, Timeout, "the dead letter")[0];
        Assert.Equal(
            $"job {ofPartition1} is in log partition 1 on shard 1, but came on partition 0, whose shard is 0 (key messages by job id with the murmur2 partitioner)",
            Encoding.UTF8.GetString(letter.Message.Headers.GetLastBytes(DeadLetterPublisher.ReasonHeader)));
        await Eventually.Get(() => shards.OffsetsAsync(0), o => o.GetValueOrDefault(0) == 2, Timeout, "partition 0's offset past both");
        Assert.Equal((1L, 1L, "2"), await shards.StoredAsync(0, "miskeyed"));
        Assert.Equal(0L, await shards.CountAsync(1, "miskeyed"));
    }

    [Fact]
    public async Task A_shard_stopped_for_10_s_stalls_only_its_partitions_and_every_signal_is_stored_once_after_it_is_back()
    {
        // Given two shards, an Ingest of two consumers, and 10 jobs of each partition each sending a signal every round
        await using var shards = new IngestShards();
        await shards.StartAsync();
        await using var ingest = new StandaloneIngest(shards.Server(0).ConnectionString, IngestShards.Partitions, shards.IngestSettings(consumers: 2));
        await ingest.StartAsync();
        var jobs = IngestShards.Jobs("stall", perPartition: 10);
        using var stopProducing = new CancellationTokenSource();
        var producing = ProduceRoundsAsync(ingest, jobs, stopProducing.Token);
        await Eventually.True(async () => await shards.CountAsync(0, "stall") >= 100 && await shards.CountAsync(1, "stall") >= 100, Timeout,
            "signals stored on both shards before the outage");

        // When shard 1's PostgreSQL stops for 10 s, then starts again
        await shards.Server(1).StopAsync();
        await Eventually.True(() => Task.FromResult(!ingest.Health.IsReady), Timeout, "Ingest to report shard 1's outage");
        var atStop = await shards.CountAsync(0, "stall");
        await Task.Delay(OutageLength);
        var waiting = ingest.Health.Snapshot().Where(l => l.Condition != LoopCondition.Running).Select(l => l.Loop).ToList();
        var atRestart = await shards.CountAsync(0, "stall");
        await shards.Server(1).StartAsync();
        await Eventually.True(() => Task.FromResult(ingest.Health.IsReady), Timeout, "Ingest to be ready again");
        await stopProducing.CancelAsync();
        var rounds = await producing;

        // Then shard 0 went on storing throughout, only shard 1's loops waited, Ingest never stopped, and every signal is
        // stored exactly once on its shard
        output.WriteLine($"shard 0 held {atStop} signals when shard 1 stopped and {atRestart} when it restarted; waiting loops: {string.Join(", ", waiting)}");
        Assert.True(atRestart >= atStop + 100, $"shard 0 stored only {atRestart - atStop} signals during the 10 s outage");
        Assert.NotEmpty(waiting);
        Assert.All(waiting, loop => Assert.EndsWith("(shard 1)", loop, StringComparison.Ordinal));
        await AllStoredOnceOnTheirShardsAsync(shards, "stall", jobs, rounds, ingest);
        Assert.False(ingest.Run.IsCompleted, "the ingest worker stopped");
        Assert.Equal(0, ingest.Counters.Duplicates);
        Assert.Equal(0, ingest.Counters.DeadLettered);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Partitions_of_a_stopped_shard_taken_over_in_a_rebalance_wait_for_it_and_are_stored_once_after_it_is_back(bool lookupsAnsweredLate)
    {
        // Given two shards, two Ingest processes of one consumer each sharing the partitions, and signals flowing
        await using var shards = new IngestShards();
        await shards.StartAsync();
        await using var first = new StandaloneIngest(shards.Server(0).ConnectionString, IngestShards.Partitions, shards.IngestSettings(consumers: 1));
        await first.StartAsync();
        await using var second = new StandaloneIngest(shards.Server(0).ConnectionString, IngestShards.Partitions, shards.IngestSettings(consumers: 1), first.Kafka);
        await second.StartAsync();
        await Eventually.True(() => Task.FromResult(Owned(first).Count > 0 && Owned(second).Count > 0 && Owned(first).Count + Owned(second).Count == IngestShards.Partitions),
            Timeout, "the two to share the partitions");
        var jobs = IngestShards.Jobs("takeover", perPartition: 5);
        using var stopProducing = new CancellationTokenSource();
        var producing = ProduceRoundsAsync(first, jobs, stopProducing.Token);
        await Eventually.True(async () => await shards.CountAsync(0, "takeover") >= 50 && await shards.CountAsync(1, "takeover") >= 50, Timeout,
            "signals stored on both shards");

        // When shard 1 stops, and then the instance holding a partition of shard 1 (1 or 3) stops, so the other is assigned it
        // while shard 1 is down (and, late lookups given, every broker answers its next offset lookup, ListOffsets, only
        // after shard 1 is back and its partitions are read again)
        await shards.Server(1).StopAsync();
        var (leaving, staying) = Owned(first).Overlaps([1, 3]) ? (first, second) : (second, first);
        var moving = Owned(leaving);
        var lateAnswersBy = DateTime.UtcNow + LateLookup;
        if (lookupsAnsweredLate)
        {
            first.Kafka.DelayNextResponse(KafkaApiKey.ListOffsets, LateLookup);
        }
        await leaving.StopAsync();
        await Eventually.True(() => Task.FromResult(Owned(staying).IsSupersetOf(moving)), Timeout, "the staying instance to be assigned the leaving one's partitions");
        Assert.Contains(staying.Logs.Entries, e => e.Message.Contains("while their shard does not answer", StringComparison.Ordinal));
        var atStop = await shards.CountAsync(0, "takeover");
        await Eventually.Get(() => shards.CountAsync(0, "takeover"), n => n >= atStop + 100, Timeout, "shard 0 to go on storing");
        await shards.Server(1).StartAsync();
        await Eventually.True(() => Task.FromResult(staying.Health.IsReady), Timeout, "the staying instance to be ready again");
        if (lookupsAnsweredLate)
        {
            Assert.True(DateTime.UtcNow < lateAnswersBy, "shard 1's partitions were read again only after the late answers");
            // Signals flow on past the late answers and a lookup 500 ms after them: how long they flow, not a wait for anything.
            await Task.Delay(lateAnswersBy + TimeSpan.FromSeconds(2) - DateTime.UtcNow);
        }
        await stopProducing.CancelAsync();
        var rounds = await producing;

        // Then every signal is stored exactly once on its shard (none skipped), the staying instance never stopped, and no
        // partition had to be started again for delivering nothing
        await AllStoredOnceOnTheirShardsAsync(shards, "takeover", jobs, rounds, staying);
        Assert.False(staying.Run.IsCompleted, "the staying ingest worker stopped");
        Assert.Equal(0, staying.Counters.Restarted);
    }

    [Fact]
    public async Task An_ingest_first_assigned_its_partitions_while_a_shard_is_down_reads_the_others_and_stores_every_signal_once_after_it_is_back()
    {
        // Given two shards and an Ingest whose group answers its first assignment (SyncGroup) only 5 s after it subscribed
        await using var shards = new IngestShards();
        await shards.StartAsync();
        await using var ingest = new StandaloneIngest(shards.Server(0).ConnectionString, IngestShards.Partitions, shards.IngestSettings(consumers: 1));
        ingest.Kafka.DelayNextResponse(KafkaApiKey.SyncGroup, LateAssignment);
        await ingest.StartAsync();
        await Eventually.True(() => Task.FromResult(ingest.Logs.Entries.Any(e => e.Message.StartsWith("Ingest consuming ", StringComparison.Ordinal))),
            Timeout, "Ingest to subscribe");

        // When shard 1 stops before the assignment arrives, signals flow, and shard 1 starts again once shard 0 has stored some
        await shards.Server(1).StopAsync();
        var jobs = IngestShards.Jobs("first", perPartition: 5);
        using var stopProducing = new CancellationTokenSource();
        var producing = ProduceRoundsAsync(ingest, jobs, stopProducing.Token);
        await Eventually.True(() => Task.FromResult(Owned(ingest).Count == IngestShards.Partitions || ingest.Run.IsCompleted), Timeout,
            "Ingest to be assigned every partition");
        Assert.False(ingest.Run.IsCompleted, "the ingest worker stopped at its first assignment");
        Assert.Contains(ingest.Logs.Entries, e => e.Message.StartsWith("Assigned partitions 1,3 of ", StringComparison.Ordinal)
            && e.Message.Contains("while their shard does not answer", StringComparison.Ordinal));
        await Eventually.Get(() => shards.CountAsync(0, "first"), n => n >= 100, Timeout, "shard 0 to store while shard 1 is down");
        await shards.Server(1).StartAsync();
        await Eventually.True(() => Task.FromResult(ingest.Health.IsReady), Timeout, "Ingest to be ready again");
        await stopProducing.CancelAsync();
        var rounds = await producing;

        // Then every signal is stored exactly once on its shard, Ingest never stopped, and no partition had to be started again
        await AllStoredOnceOnTheirShardsAsync(shards, "first", jobs, rounds, ingest);
        Assert.False(ingest.Run.IsCompleted, "the ingest worker stopped");
        Assert.Equal(0, ingest.Counters.Restarted);
    }

    // Each job sends its next signal on its partition every round (about 50 ms), until stopped; returns how many rounds.
    static Task<int> ProduceRoundsAsync(StandaloneIngest via, IReadOnlyList<(string Job, int Partition)> jobs, CancellationToken stop) =>
        Task.Run(async () =>
        {
            var round = 0;
            for (; !stop.IsCancellationRequested; round++)
            {
                for (var partition = 0; partition < IngestShards.Partitions; partition++)
                {
                    via.Produce(jobs.Where(j => j.Partition == partition).Select(j => IngestProbe.Signals(j.Job, round + 1, 1).Single()), partition);
                }
                await Task.Delay(TimeSpan.FromMilliseconds(50), CancellationToken.None);
            }
            return round;
        }, CancellationToken.None);

    // Every signal of the rounds stored exactly once, each on its partition's shard, in its partition; the logs of
    // `logsOf` printed when they are not all there by the deadline.
    async Task AllStoredOnceOnTheirShardsAsync(
        IngestShards shards, string prefix, IReadOnlyList<(string Job, int Partition)> jobs, int rounds, StandaloneIngest logsOf)
    {
        foreach (var shard in new[] { 0, 1 })
        {
            var expected = (long)rounds * jobs.Count(j => j.Partition % 2 == shard);
            try
            {
                await Eventually.Get(() => shards.CountAsync(shard, prefix), n => n >= expected, Timeout, $"all {expected} signals of shard {shard}");
            }
            catch (TimeoutException)
            {
                foreach (var (level, message) in logsOf.Logs.Entries)
                {
                    output.WriteLine($"{level}: {message}");
                }
                throw;
            }
            Assert.Equal((expected, expected, $"{shard},{shard + 2}"), await shards.StoredAsync(shard, prefix));
        }
    }

    // The partitions an instance holds now by what it logged: assigned, less revoked or lost.
    static HashSet<int> Owned(StandaloneIngest ingest)
    {
        var owned = new HashSet<int>();
        foreach (var (_, message) in ingest.Logs.Entries)
        {
            if (OwnershipLine().Match(message) is { Success: true } line)
            {
                var partitions = line.Groups[2].Value.Split(',').Select(int.Parse);
                if (line.Groups[1].Value == "Assigned")
                {
                    owned.UnionWith(partitions);
                }
                else
                {
                    owned.ExceptWith(partitions);
                }
            }
        }
        return owned;
    }

    [GeneratedRegex(@"^(Assigned|Revoked|Lost) partitions ([0-9,]+) of ")]
    private static partial Regex OwnershipLine();
}
