using Npgsql;
using Streaming.Contracts;
using Streaming.Contracts.History;
using Streaming.Contracts.Signals;
using Streaming.Embedded.Broker;
using Streaming.EventStore;
using Streaming.Hosting.Kafka;
using Streaming.Ingest.Appending;
using Streaming.Promoter.Fleet;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;
using Streaming.Tests.Ownership;
using Xunit.Abstractions;

namespace Streaming.Tests.Sharding;

/// <summary>
/// A Projector process for each of two shards (two PostgreSQL clusters), each the one member of its shard's group: what
/// each follows and projects, and the control streams relayed from shard 0 into shard 1; and two Projectors of one
/// shard, which split that shard's partitions between them. The signals are appended to
/// each shard's log directly, as Ingest over shards would store them.
/// </summary>
public sealed class ShardedProjectorTests(TwoShardStore shards, ITestOutputHelper output) : IClassFixture<TwoShardStore>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    const int Signals = 5;

    [Fact]
    public async Task Each_shards_projector_projects_its_shards_partitions_alone_and_the_other_shard_gets_shard_0s_control_events()
    {
        // Given two jobs in each partition, their signals in their shard's log (shard 0: 0 and 2, shard 1: 1 and 3), and in
        // shard 0 those of 1 and 3 too, in shard 1 those of 2: events no Projector of that shard may project
        var jobs = Enumerable.Range(0, PartitionedDatabase.Partitions).Select(p => new[] { PartitionedDatabase.JobIn(p), PartitionedDatabase.JobIn(p) }).ToArray();
        await AppendSignalsAsync(shards.Shard(0), jobs.SelectMany(j => j));
        await AppendSignalsAsync(shards.Shard(1), jobs.Skip(1).SelectMany(j => j));
        // And a known issue opened in shard 0, the control streams' home
        var opened = await new FleetWriter(new EventStreams(shards.Shard(0)), TimeProvider.System).OpenIssueAsync(
            $"sharded-{Guid.NewGuid():N}", "relayed", [jobs[1][0]], new Dictionary<string, string>(), "tests", CancellationToken.None);

        // When a Projector serves each shard
        using var kafka = EmbeddedKafkaCluster.Start();
        kafka.CreateTopic(Topics.Signals, PartitionedDatabase.Partitions);
        foreach (var (topic, partitions) in new KafkaOptions().ShardGroupTopics(TwoShardStore.Map))
        {
            kafka.CreateTopic(topic, partitions);
        }
        await using var first = Projector(kafka, 0);
        await using var second = Projector(kafka, 1);

        // Then each follows its shard's partitions and the control partition, all of those its group (over its shard's group
        // topic of two partitions) assigns it
        await Eventually.True(() => Task.FromResult(FollowedShare.Of(first).SetEquals([0, 2])), Timeout, "shard 0's Projector to follow 0 and 2");
        await Eventually.True(() => Task.FromResult(FollowedShare.Of(second).SetEquals([0, 1, 3])), Timeout, "shard 1's Projector to follow 0, 1 and 3");

        // And projects every job of them to its last signal, in its shard
        foreach (var shard in new[] { 0, 1 })
        {
            var store = new StoreProbe(shards.Shard(shard));
            foreach (var job in TwoShardStore.Map.PartitionsOf(shard).SelectMany(p => jobs[p]))
            {
                await Eventually.Get(() => store.LastSeqAsync(job), s => s == Signals, Timeout, $"shard {shard}'s projection of {job}");
            }
        }

        // And shard 1 holds shard 0's known issue event, as shard 0 has it
        var stream = KnownIssueOpened.StreamFor(opened.IssueId);
        var home = await new EventStreams(shards.Shard(0)).ReadStreamForwardAsync(stream, 1, 10, CancellationToken.None);
        await Eventually.True(async () => (await new EventStreams(shards.Shard(1)).ReadVersionAsync(stream, CancellationToken.None)) == 1, Timeout, "the known issue relayed to shard 1");
        var copy = await new EventStreams(shards.Shard(1)).ReadStreamForwardAsync(stream, 1, 10, CancellationToken.None);
        Assert.Equal(home.Select(e => (e.EventId, e.Version, e.Type, e.Data)), copy.Select(e => (e.EventId, e.Version, e.Type, e.Data)));

        // And neither projected or saved anything of another shard's partitions
        foreach (var (shard, foreign) in new[] { (0, new[] { 1, 3 }), (1, new[] { 2 }) })
        {
            var store = new StoreProbe(shards.Shard(shard));
            foreach (var job in foreign.SelectMany(p => jobs[p]))
            {
                Assert.Null(await store.LastSeqAsync(job));
            }
            Assert.Equal(0L, await CheckpointsOfAsync(shards.Shard(shard), TwoShardStore.Map.PartitionsOf(1 - shard).Where(p => p != LogPartitioner.ControlPartition)));
        }
        Assert.DoesNotContain("[ERR]", first.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("[ERR]", second.Log, StringComparison.Ordinal);
        output.WriteLine($"--- shard 0 ---\n{first.Log}\n--- shard 1 ---\n{second.Log}");
    }

    [Fact]
    public async Task Two_projectors_of_shard_1_split_its_two_partitions_one_each_and_project_them()
    {
        // Given two jobs in each of shard 1's partitions (1 and 3), their signals in shard 1's log
        var jobs = TwoShardStore.Map.PartitionsOf(1).ToDictionary(p => p, p => new[] { PartitionedDatabase.JobIn(p), PartitionedDatabase.JobIn(p) });
        await AppendSignalsAsync(shards.Shard(1), jobs.Values.SelectMany(j => j));

        // When two Projectors serve shard 1, members of its group over its group topic (a partition for each of 1 and 3)
        using var kafka = EmbeddedKafkaCluster.Start();
        kafka.CreateTopic(Topics.Signals, PartitionedDatabase.Partitions);
        foreach (var (topic, partitions) in new KafkaOptions().ShardGroupTopics(TwoShardStore.Map))
        {
            kafka.CreateTopic(topic, partitions);
        }
        await using var first = Projector(kafka, 1, "projector-shard1-1");
        await using var second = Projector(kafka, 1, "projector-shard1-2");

        // Then each follows one of the shard's partitions: whoever has 1, the shard's first, owns the control partition
        // too, and the other reads it control-only (its line says "3 (+0 control only)")
        await Eventually.True(() => Task.FromResult(
                new[] { FollowedShare.Of(first), FollowedShare.Of(second) } is var shares
                && shares.Any(s => s.SetEquals([0, 1])) && shares.Any(s => s.SetEquals([3]))),
            Timeout, "the two Projectors of shard 1 to follow 0,1 and 3");

        // And every job of the shard is projected to its last signal
        var store = new StoreProbe(shards.Shard(1));
        foreach (var job in jobs.Values.SelectMany(j => j))
        {
            await Eventually.Get(() => store.LastSeqAsync(job), s => s == Signals, Timeout, $"shard 1's projection of {job}");
        }
        Assert.DoesNotContain("[ERR]", first.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("[ERR]", second.Log, StringComparison.Ordinal);
        output.WriteLine($"--- first ---\n{first.Log}\n--- second ---\n{second.Log}");
    }

    ServiceProcess Projector(EmbeddedKafkaCluster kafka, int shard, string? instance = null) => ServiceProcess.Start("Projector", new Dictionary<string, string>
    {
        ["ConnectionStrings__EventStore"] = shards.Server(0).ConnectionString,
        ["ConnectionStrings__EventStoreShard1"] = shards.Server(1).ConnectionString,
        ["Store__Shards"] = "2",
        ["Store__Shard"] = $"{shard}",
        ["Store__LogPartitions"] = $"{PartitionedDatabase.Partitions}",
        ["Kafka__BootstrapServers"] = kafka.BootstrapServers,
        ["Kafka__CreateTopics"] = "false",
        ["Kafka__Partitions"] = $"{PartitionedDatabase.Partitions}",
        ["Kafka__ConsumerSessionTimeout"] = "00:00:06",
        ["Projector__Ownership__Enabled"] = "true",
        ["Projector__Ownership__InstanceId"] = instance ?? $"projector-shard{shard}",
        ["Serilog__MinimumLevel__Default"] = "Warning",
        ["Serilog__MinimumLevel__Override__Streaming.Projections.Ownership"] = "Information",
        ["Serilog__MinimumLevel__Override__Streaming.Projections.Sharding"] = "Information",
    });

    static async Task AppendSignalsAsync(NpgsqlDataSource shard, IEnumerable<string> jobs)
    {
        var signals = jobs.SelectMany(job => SignalFactory.Minutes(job, 0, Signals, "shadow", SignalFactory.Good))
            .Select(signal => SignalToAppend.Of(SignalReadResult.Accepted(signal), default)).ToList();
        await new SignalLog(shard).AppendSignalsAsync(signals, [], CancellationToken.None);
    }

    static async Task<long> CheckpointsOfAsync(NpgsqlDataSource shard, IEnumerable<int> partitions)
    {
        await using var command = shard.CreateCommand("select count(*) from es.checkpoints where partition = any($1)");
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. partitions] });
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
