using Npgsql;
using Streaming.Cli.Resharding;
using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Contracts;
using Streaming.Ingest.Appending;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Sharding;

/// <summary>
/// <c>streaming reshard --shards 3</c> over a store of two shards with data in every partition: each partition ends on
/// shard p mod 3, whole and nowhere else; a run cut short is completed by the next; a connected service is refused.
/// </summary>
public sealed class ReshardCommandTests
{
    const string Group = "streaming-ingest";

    static readonly ShardMap Two = new(2, ThreeShardStore.Partitions);
    static readonly ShardMap Three = new(3, ThreeShardStore.Partitions);

    [Fact]
    public async Task Moves_every_partition_onto_shard_p_mod_3_with_its_events_heads_offsets_and_checkpoints_and_refuses_while_a_service_is_connected()
    {
        // Given two shards with signals and offsets in every partition, a control event relayed to shard 1 and two folds' checkpoints
        await using var store = await ThreeShardStore.StartAsync();
        await FillAsync(store);
        var before = await SnapshotAsync(store, Two);

        // When a service is connected to shard 1, the reshard is refused, naming it, and nothing moves
        await using (var service = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(store.Server(1).ConnectionString) { ApplicationName = "Streaming.Projector" }.ConnectionString))
        await using (var connection = await service.OpenConnectionAsync())
        {
            var (refused, _, why) = await ReshardAsync(store);
            Assert.Equal(1, refused);
            Assert.Contains("Streaming.Projector", why, StringComparison.Ordinal);
        }
        Assert.Equal(before, await SnapshotAsync(store, Two));

        // When every service is stopped and the store is resharded onto 3
        var (exit, output, error) = await ReshardAsync(store);

        // Then it succeeds, moving the 8 partitions whose p mod 2 differs from p mod 3 (all but 1, 6 and 7)
        Assert.True(exit == 0, $"exit {exit}: {error}\n{output}");
        Assert.Contains("moved 8 of 12 partitions", output, StringComparison.Ordinal);
        // And every partition is on shard p mod 3 alone, with the same events, ids, versions, commits, heads, offsets and checkpoints
        Assert.Equal(before, await SnapshotAsync(store, Three));
        await AssertOnlyOnHomeAsync(store);
        // And the refolded folds' checkpoints of moved partitions are gone (the job states fold them again), the others kept
        await AssertCheckpointsAsync(store);

        // And a second run finds nothing to move
        var (again, said, _) = await ReshardAsync(store);
        Assert.Equal(0, again);
        Assert.Contains("nothing to move", said, StringComparison.Ordinal);

        // And a moved job's stream takes its next append on its new shard, at its next version, in its partition's next commit
        await using (var head = store.Shard(2).CreateCommand(
            "select s.stream_id, s.version, h.last_commit from es.streams s join es.log_head h on h.partition = s.partition where s.partition = 2 order by s.stream_id limit 1"))
        await using (var reader = await head.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            var (job, version, commit) = (reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2));
            Assert.Equal(version + 1, await new EventStreams(store.Shard(2)).AppendToStreamAsync(job, version, SampleEvents.Events(1), CancellationToken.None));
            await using var last = store.Shard(2).CreateCommand("select max(commit) from es.commits where partition = 2");
            Assert.Equal(commit + 1, (long)(await last.ExecuteScalarAsync())!);
        }
    }

    [Fact]
    public async Task A_run_stopped_after_one_partition_and_one_cut_between_a_copy_and_its_removal_are_completed_by_the_next_run()
    {
        // Given two shards with data in every partition
        await using var store = await ThreeShardStore.StartAsync();
        await FillAsync(store);
        var before = await SnapshotAsync(store, Two);

        // When a run stops after one partition (exit 3, partitions left)
        var (stopped, output, error) = await ReshardAsync(store, "--max-moves", "1");
        Assert.True(stopped == 3, $"exit {stopped}: {error}\n{output}");
        Assert.Contains("7 partitions are still to move", output, StringComparison.Ordinal);

        // And another is cut after its copy committed on the new shard, before its removal from the old one (partition 3: shard 1 → 0)
        await PartitionMove.CopyAsync(store.Shard(1), store.Shard(0), 3, CancellationToken.None);

        // Then the next run completes both: every partition on shard p mod 3 alone, as before the move
        var (exit, done, failed) = await ReshardAsync(store);
        Assert.True(exit == 0, $"exit {exit}: {failed}\n{done}");
        Assert.Contains("partition 3: shard 1 → 0: copied by an earlier run", done, StringComparison.Ordinal);
        Assert.Equal(before, await SnapshotAsync(store, Three));
        await AssertOnlyOnHomeAsync(store);
    }

    static Task<(int Exit, string Out, string Error)> ReshardAsync(ThreeShardStore store, params string[] options)
    {
        store.CloseSessions();
        return StreamingTool.RunAsync(store.Server(0).ConnectionString, Environment(store), ["reshard", "--shards", "3", .. options]);
    }

    static Dictionary<string, string> Environment(ThreeShardStore store) => new()
    {
        ["Store__Shards"] = "2",
        ["ConnectionStrings__EventStoreShard1"] = store.Server(1).ConnectionString,
        ["ConnectionStrings__EventStoreShard2"] = store.Server(2).ConnectionString,
    };

    // Three jobs per partition, signals in three batches (so several commits) with the Kafka offsets of their partition,
    // a control stream on shard 0 copied to shard 1, and checkpoints of two folds in every partition of each shard.
    static async Task FillAsync(ThreeShardStore store)
    {
        var jobs = Enumerable.Range(1, ThreeShardStore.Partitions - 1)
            .SelectMany(p => Enumerable.Range(0, 3).Select(_ => (Partition: p, Job: PartitionedDatabase.JobIn(ThreeShardStore.Partitioner, p)))).ToList();
        for (var batch = 0; batch < 3; batch++)
        {
            foreach (var shard in Enumerable.Range(0, 2))
            {
                var mine = jobs.Where(j => Two.ShardOf(j.Partition) == shard).ToList();
                var signals = mine.SelectMany(j => Enumerable.Range(batch * 2 + 1, 2).Select(seq => SampleEvents.Signal(j.Job, seq))).ToList();
                var offsets = mine.Select(j => j.Partition).Distinct()
                    .Select(p => new KafkaOffsetAdvance(Group, Topics.Signals, p, batch == 0 ? null : 100L * p + batch, 100L * p + batch + 1)).ToList();
                await new SignalLog(store.Shard(shard)).AppendSignalsAsync(signals, offsets, CancellationToken.None);
            }
        }
        var control = SampleEvents.Event("known-issue-declared/v1");
        foreach (var shard in Enumerable.Range(0, 2))
        {
            await new EventStreams(store.Shard(shard)).AppendToStreamAsync("known-issue:reshard", ExpectedVersion.NoStream, [control], CancellationToken.None);
        }
        foreach (var shard in Enumerable.Range(0, 2))
        {
            // Each fold read every partition of its shard to the middle of its last commit's events (a position inside it).
            await using var checkpoints = store.Shard(shard).CreateCommand("""
                insert into es.checkpoints (name, partition, commit, position)
                select f.name, c.partition, c.commit,
                       (select min(e.global_position) from es.events e where e.tx_id = c.tx_id and e.partition = c.partition)
                  from es.commits c cross join (values ('fleet-history'), ('projector:job-states:g1')) f(name)
                 where c.commit = (select max(commit) from es.commits m where m.partition = c.partition)
                """);
            await checkpoints.ExecuteNonQueryAsync();
        }
    }

    // Per partition, from the shard the map puts it on: its events in log order (no positions: a move renumbers them),
    // its heads, log head, offsets, and each copied checkpoint as the commit and the event it names.
    static async Task<List<string>> SnapshotAsync(ThreeShardStore store, ShardMap map)
    {
        var lines = new List<string>();
        for (var partition = 1; partition < ThreeShardStore.Partitions; partition++)
        {
            await using var command = store.Shard(map.ShardOf(partition)).CreateCommand("""
                select 'event ' || concat_ws(' ', e.stream_id, e.version, e.event_id, c.commit, e.seq, e.data::text)
                  from es.commits c join es.events e on e.tx_id = c.tx_id and e.partition = c.partition
                 where c.partition = $1
                union all select 'head ' || concat_ws(' ', stream_id, version, last_seq) from es.streams where partition = $1
                union all select 'log head ' || last_commit from es.log_head where partition = $1
                union all select 'offset ' || concat_ws(' ', consumer_group, topic, next_offset) from es.kafka_offsets where partition = $1
                union all select 'checkpoint ' || concat_ws(' ', k.name, k.commit, e.event_id)
                  from es.checkpoints k left join es.events e on e.global_position = k.position
                 where k.partition = $1 and k.name = 'fleet-history'
                """);
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = partition });
            await using var reader = await command.ExecuteReaderAsync();
            var rows = new List<string>();
            while (await reader.ReadAsync())
            {
                rows.Add($"{partition}: {reader.GetString(0)}");
            }
            lines.AddRange(rows.Order(StringComparer.Ordinal));
        }
        Assert.Contains(lines, l => l.StartsWith("11: event", StringComparison.Ordinal));
        return lines;
    }

    static async Task AssertOnlyOnHomeAsync(ThreeShardStore store)
    {
        for (var shard = 0; shard < 3; shard++)
        {
            await using var connection = await store.Shard(shard).OpenConnectionAsync();
            for (var partition = 1; partition < ThreeShardStore.Partitions; partition++)
            {
                Assert.True(await PartitionFingerprint.HoldsAsync(connection, partition, CancellationToken.None) == (Three.ShardOf(partition) == shard),
                    $"partition {partition} on shard {shard}");
            }
        }
    }

    static async Task AssertCheckpointsAsync(ThreeShardStore store)
    {
        for (var partition = 1; partition < ThreeShardStore.Partitions; partition++)
        {
            await using var command = store.Shard(Three.ShardOf(partition)).CreateCommand("select name from es.checkpoints where partition = $1 order by name");
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = partition });
            var names = new List<string>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                names.Add(reader.GetString(0));
            }
            var moved = Two.ShardOf(partition) != Three.ShardOf(partition);
            Assert.Equal(moved ? ["fleet-history"] : ["fleet-history", "projector:job-states:g1"], names);
        }
    }
}
