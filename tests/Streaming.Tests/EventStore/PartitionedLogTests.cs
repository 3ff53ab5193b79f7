using Npgsql;
using Streaming.EventStore;
using Streaming.Projections.Checkpointing;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.EventStore;

public sealed class PartitionedLogTests(PartitionedDatabase database) : IClassFixture<PartitionedDatabase>
{
    static readonly int[] All = [.. Enumerable.Range(0, PartitionedDatabase.Partitions)];

    EventStreams Streams => new(database.DataSource);

    EventLog Log => new(database.DataSource);

    [Fact]
    public async Task A_transaction_appending_to_two_partitions_records_one_commit_in_each_next_in_its_order()
    {
        // Given where partitions 1 and 3 end
        var before = await HeadsAsync();
        var ends = await Log.ReadTailEndAsync(All, CancellationToken.None);
        var three = PartitionedDatabase.JobIn(3);
        var one = PartitionedDatabase.JobIn(1);

        // When one transaction appends to a job of partition 3, then to one of partition 1
        await Streams.InTransactionAsync(async transaction =>
        {
            await Streams.AppendToStreamAsync(transaction, three, ExpectedVersion.Any, SampleEvents.Events(2), CancellationToken.None);
            return await Streams.AppendToStreamAsync(transaction, one, ExpectedVersion.Any, SampleEvents.Events(1), CancellationToken.None);
        }, CancellationToken.None);

        // Then each of the two partitions has its next commit, holding that partition's events, and no other moved
        var after = await HeadsAsync();
        Assert.Equal(before[1] + 1, after[1]);
        Assert.Equal(before[3] + 1, after[3]);
        Assert.Equal((before[0], before[2]), (after[0], after[2]));
        var read = await Log.ReadTailAsync(ends, 100, CancellationToken.None);
        Assert.Equal([(3, after[3]), (3, after[3])], read.Where(e => e.StreamId == three).Select(e => (e.Partition, e.Commit)));
        Assert.Equal([(1, after[1])], read.Where(e => e.StreamId == one).Select(e => (e.Partition, e.Commit)));
        Assert.Equal(3, read.Count);
    }

    [Fact]
    public async Task Transactions_taking_two_partitions_in_opposite_orders_never_deadlock()
    {
        // Given many transactions at once, half appending to partition 1 then 2, half to 2 then 1, half recording their
        // commits themselves and half through the store's trigger at commit
        var before = await HeadsAsync();
        const int transactions = 64;

        // When they all run (without the retry that would hide a deadlock)
        await Task.WhenAll(Enumerable.Range(0, transactions).Select(i => Task.Run(async () =>
        {
            await using var connection = await database.DataSource.OpenConnectionAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            var promise = i % 4 < 2;
            if (promise)
            {
                await LogCommit.PromiseAsync(transaction, CancellationToken.None);
            }
            int[] order = i % 2 == 0 ? [1, 2] : [2, 1];
            foreach (var partition in order)
            {
                await Streams.AppendToStreamAsync(transaction, PartitionedDatabase.JobIn(partition), ExpectedVersion.Any, SampleEvents.Events(1), CancellationToken.None);
            }
            if (promise)
            {
                await LogCommit.RecordAsync(transaction, CancellationToken.None);
            }
            await transaction.CommitAsync();
        })));

        // Then every one committed, each with a commit in both partitions, numbered without a gap
        var after = await HeadsAsync();
        Assert.Equal(before[1] + transactions, after[1]);
        Assert.Equal(before[2] + transactions, after[2]);
        await using var command = database.DataSource.CreateCommand("""
            select count(*) filter (where n = 2), count(*) from (
                select tx_id, count(*) as n from es.commits
                 where partition = 1 and commit > $1 or partition = 2 and commit > $2
                 group by tx_id) t
            """);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = before[1] });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = before[2] });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal((transactions, transactions), (reader.GetInt64(0), reader.GetInt64(1)));
    }

    [Fact]
    public async Task A_transaction_holding_one_partitions_head_does_not_delay_another_partitions_tail()
    {
        // Given a transaction that appended to partition 1 and holds its head, uncommitted
        var tail = await Log.ReadTailEndAsync(All, CancellationToken.None);
        await using var held = await HeldPartitionHead.TakeAsync(database.DataSource, 1);

        // When another transaction appends to partition 2 and commits
        var two = PartitionedDatabase.JobIn(2);
        var append = Streams.AppendToStreamAsync(two, ExpectedVersion.Any, SampleEvents.Events(1), CancellationToken.None);

        // Then it commits, and a tail of partitions 1 and 2 reads it, while partition 1's transaction is still open
        await append.WaitAsync(TimeSpan.FromSeconds(10));
        var read = await Eventually.Get(
            () => Log.ReadTailAsync(LogPositions.Of(tail.Where(p => p.Key is 1 or 2)), 100, CancellationToken.None),
            events => events.Count > 0, TimeSpan.FromSeconds(10), "partition 2's commit at its tail");
        Assert.Equal([two], read.Select(e => e.StreamId));
        Assert.True(held.Holding);
    }

    [Fact]
    public async Task Each_partitions_commits_become_visible_to_its_tail_in_commit_order()
    {
        // Given a tail of every partition reading while writers append to jobs of all partitions at once
        var at = await Log.ReadTailEndAsync(All, CancellationToken.None);
        var expected = new Dictionary<int, long>(at.Select(p => KeyValuePair.Create(p.Key, p.Value.Commit)));
        using var writing = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 40; i++)
            {
                var jobs = new[] { PartitionedDatabase.JobIn(i % 4), PartitionedDatabase.JobIn((i + w) % 4) }.Distinct().Order().ToArray();
                await Streams.InTransactionAsync(async transaction =>
                {
                    foreach (var job in jobs)
                    {
                        await Streams.AppendToStreamAsync(transaction, job, ExpectedVersion.Any, SampleEvents.Events(1), CancellationToken.None);
                    }
                    return 0;
                }, CancellationToken.None);
            }
        })).ToArray();

        // Then each partition's tail sees its commits one after another, never one before an earlier one
        var written = Task.WhenAll(writers);
        while (true)
        {
            var done = written.IsCompleted;
            var read = await Log.ReadTailAsync(at, 1_000, CancellationToken.None);
            foreach (var e in read)
            {
                Assert.True(e.Commit == expected[e.Partition] || e.Commit == expected[e.Partition] + 1,
                    $"partition {e.Partition} showed commit {e.Commit} after {expected[e.Partition]}");
                expected[e.Partition] = e.Commit;
                at = at.With(e.Partition, e.Position);
            }
            if (done && read.Count == 0)
            {
                break;
            }
        }
        await written;
        Assert.Equal(await HeadsAsync(), expected);
    }

    [Fact]
    public async Task A_folds_checkpoints_per_partition_resume_exactly_after_a_restart()
    {
        // Given a fold that saved where it got to in each partition, with what it wrote, in one transaction
        var name = "fold-" + Guid.NewGuid().ToString("N");
        var fold = new FoldCheckpoint(name);
        Assert.Equal(LogPositions.Start(All), await fold.LoadAsync(database.DataSource, CancellationToken.None));
        var first = LogPositions.Start(All).With(1, new TailPosition(3, 30)).With(3, new TailPosition(7, 71));
        await fold.SaveAsync(database.DataSource, first, null, CancellationToken.None);
        var second = first.With(0, new TailPosition(2, 5)).With(3, new TailPosition(8, 80));
        await fold.SaveAsync(database.DataSource, second, null, CancellationToken.None);

        // When it starts again
        var restarted = new FoldCheckpoint(name);
        var resumed = await restarted.LoadAsync(database.DataSource, CancellationToken.None);

        // Then it resumes exactly where it saved in every partition, and moves on from there
        Assert.Equal(second, resumed);
        var third = resumed.With(2, new TailPosition(1, 9));
        await restarted.SaveAsync(database.DataSource, third, null, CancellationToken.None);
        Assert.Equal(third, await new FoldCheckpoint(name).LoadAsync(database.DataSource, CancellationToken.None));
    }

    [Fact]
    public async Task A_checkpoint_moved_by_another_instance_in_one_partition_conflicts_naming_that_partition()
    {
        // Given two instances of a fold that loaded the same checkpoints
        var name = "fold-" + Guid.NewGuid().ToString("N");
        var start = LogPositions.Start(All).With(0, new TailPosition(1, 1)).With(2, new TailPosition(4, 40));
        await new FoldCheckpoint(name).SaveAsync(database.DataSource, start, null, CancellationToken.None);
        var paused = new FoldCheckpoint(name);
        var successor = new FoldCheckpoint(name);
        await paused.LoadAsync(database.DataSource, CancellationToken.None);
        await successor.LoadAsync(database.DataSource, CancellationToken.None);

        // When the successor moves partition 2, and then the other saves its moves of partitions 0 and 2 with a write
        await successor.SaveAsync(database.DataSource, start.With(2, new TailPosition(5, 50)), null, CancellationToken.None);
        var wrote = false;
        var conflict = await Assert.ThrowsAsync<CheckpointConflictException>(() => paused.SaveAsync(
            database.DataSource, start.With(0, new TailPosition(2, 2)).With(2, new TailPosition(6, 60)),
            (_, _) =>
            {
                wrote = true;
                return Task.CompletedTask;
            },
            CancellationToken.None));

        // Then the conflict names partition 2 and where it is, and nothing of the fenced save was written
        Assert.Equal((name, 2, (TailPosition?)new TailPosition(4, 40), (TailPosition?)new TailPosition(5, 50)),
            (conflict.Name, conflict.Partition, conflict.Expected, conflict.Actual));
        Assert.False(wrote);
        Assert.Equal(start.With(2, new TailPosition(5, 50)), await new FoldCheckpoint(name).LoadAsync(database.DataSource, CancellationToken.None));
    }

    async Task<Dictionary<int, long>> HeadsAsync()
    {
        await using var command = database.DataSource.CreateCommand("select partition, last_commit from es.log_head");
        await using var reader = await command.ExecuteReaderAsync();
        var heads = new Dictionary<int, long>();
        while (await reader.ReadAsync())
        {
            heads[reader.GetInt32(0)] = reader.GetInt64(1);
        }
        return heads;
    }
}
