using Npgsql;
using Streaming.Cli;
using Streaming.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.EventStore;

/// <summary>
/// Migration 17 on a store written as one log: with several partitions each partition keeps its commits' order and
/// every checkpoint resumes exactly where it was; poisoned-event keys follow their events.
/// </summary>
public sealed class PartitionMigrationTests
{
    const int BeforePartitions = 16;

    static readonly int[] All = [.. Enumerable.Range(0, PartitionedDatabase.Partitions)];

    [Fact]
    public async Task A_single_log_split_into_partitions_keeps_each_partitions_order_and_resumes_every_checkpoint_exactly()
    {
        await TestDatabase.UseFreshAsync(async dataSource =>
        {
            // Given a single log: transactions touching jobs of partitions 1 and 3, a policy and a job of 3, a job of 1
            await EventStoreSchema.MigrateAsync(dataSource, StoreSchema.ServiceMigrations, BeforePartitions, CancellationToken.None);
            var (one, three) = (PartitionedDatabase.JobIn(1), PartitionedDatabase.JobIn(3));
            await AppendAsync(dataSource, (one, 2), (three, 1));
            await AppendAsync(dataSource, ("policy:default", 1), (three, 1));
            await AppendAsync(dataSource, (one, 1));
            await AppendAsync(dataSource, (PartitionedDatabase.JobIn(2), 1), (one, 1));
            var old = await OldOrderAsync(dataSource);
            var checkpoints = new Dictionary<string, TailPosition>
            {
                ["at-start"] = TailPosition.Start,
                ["inside-first"] = old[1].Position,
                ["after-second"] = old[4].Position,
                ["inside-second"] = old[3].Position,
                ["at-end"] = old[^1].Position,
            };
            foreach (var (name, position) in checkpoints)
            {
                await ExecuteAsync(dataSource, $"insert into es.checkpoints (name, commit, position) values ('{name}', {position.Commit}, {position.GlobalPosition})");
            }
            await ExecuteAsync(dataSource, $"""
                insert into es.poisoned_events (fold, commit, global_position, stream_id, version, event_type, error)
                values ('some-fold', {old[5].Position.Commit}, {old[5].Position.GlobalPosition}, '{one}', 3, 'test-event', 'does not decode')
                """);

            // When the store is migrated with four partitions
            Assert.Equal([17], await EventStoreSchema.MigrateAsync(dataSource, StoreSchema.ServiceMigrations, 17, CancellationToken.None, PartitionedDatabase.Partitioner));
            // (and through the store's later steps, which today's tail read needs)
            await EventStoreSchema.MigrateAsync(dataSource, StoreSchema.ServiceMigrations, EventStoreSchema.Migrations.Max(m => m.Version), CancellationToken.None, PartitionedDatabase.Partitioner);

            // Then each partition reads its events in the old order, with commits numbered from 1 in that order
            var log = new EventLog(dataSource);
            var split = await log.ReadTailAsync(LogPositions.Start(All), 100, CancellationToken.None);
            foreach (var partition in All)
            {
                var expected = old.Where(e => PartitionedDatabase.Partitioner.PartitionOf(e.StreamId) == partition).ToList();
                var read = split.Where(e => e.Partition == partition).ToList();
                Assert.Equal(expected.Select(e => e.EventId), read.Select(e => e.EventId));
                Assert.Equal(Renumbered(expected.Select(e => e.Position.Commit)), read.Select(e => e.Commit));
            }
            // And every checkpoint resumes with exactly the events the single log had after it
            await using var connection = await dataSource.OpenConnectionAsync();
            foreach (var (name, position) in checkpoints)
            {
                var moved = await Checkpoints.LoadAsync(connection, name, All, CancellationToken.None);
                Assert.Equal(All, moved.Keys.Order());
                var resumed = await log.ReadTailAsync(LogPositions.Of(moved), 100, CancellationToken.None);
                Assert.Equal(old.Where(e => e.Position.CompareTo(position) > 0).Select(e => e.EventId).Order(), resumed.Select(e => e.EventId).Order());
            }
            // And the poisoned event is keyed by its partition's commit
            var poisoned = split.Single(e => e.GlobalPosition == old[5].Position.GlobalPosition);
            await using var key = dataSource.CreateCommand("select partition, commit from es.poisoned_events");
            await using var reader = await key.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal((1, poisoned.Commit), (reader.GetInt32(0), reader.GetInt64(1)));
        });
    }

    [Fact]
    public async Task A_store_created_with_one_partition_refuses_another_count()
    {
        await TestDatabase.UseFreshAsync(async dataSource =>
        {
            await EventStoreSchema.MigrateAsync(dataSource, StoreSchema.ServiceMigrations, CancellationToken.None);

            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() =>
                EventStoreSchema.MigrateAsync(dataSource, StoreSchema.ServiceMigrations, PartitionedDatabase.Partitioner, CancellationToken.None));

            Assert.Contains("1 partitions, not the 4 configured", refused.Message, StringComparison.Ordinal);
            Assert.Equal(1, (await EventStoreSchema.ReadPartitioningAsync(dataSource, CancellationToken.None)).Partitions);
        });
    }

    // Old commits in order, numbered 1, 2, … in that order (equal old commits keep one number).
    static IEnumerable<long> Renumbered(IEnumerable<long> oldCommits)
    {
        var distinct = oldCommits.Distinct().Order().Select((commit, i) => (commit, i + 1L)).ToDictionary();
        return oldCommits.Select(c => distinct[c]);
    }

    // One transaction of raw inserts, its commit recorded by the store's trigger, as a writer of the single log did.
    static async Task AppendAsync(NpgsqlDataSource dataSource, params (string Stream, int Count)[] appends)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        foreach (var (stream, count) in appends)
        {
            await using var command = new NpgsqlCommand("""
                insert into es.events (stream_id, version, event_id, type, data, metadata, event_time)
                select $1, coalesce((select max(version) from es.events where stream_id = $1), 0) + v, gen_random_uuid(), 'test-event', '{}', '{}', now()
                  from generate_series(1, $2) v
                """, connection, transaction);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = count });
            await command.ExecuteNonQueryAsync();
        }
        await transaction.CommitAsync();
    }

    // Before migration 17 a transaction has one commit and its events no partition: the join on tx_id alone is the single log's.
    static async Task<List<(Guid EventId, string StreamId, TailPosition Position)>> OldOrderAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("""
            select e.event_id, e.stream_id, c.commit, e.global_position
              from es.commits c join es.events e on e.tx_id = c.tx_id order by c.commit, e.global_position
            """);
        await using var reader = await command.ExecuteReaderAsync();
        var events = new List<(Guid, string, TailPosition)>();
        while (await reader.ReadAsync())
        {
            events.Add((reader.GetGuid(0), reader.GetString(1), new TailPosition(reader.GetInt64(2), reader.GetInt64(3))));
        }
        return events;
    }

    static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
