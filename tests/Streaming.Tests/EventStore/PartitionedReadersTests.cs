using Streaming.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.EventStore;

public sealed class PartitionedReadersTests(PartitionedDatabase database) : IClassFixture<PartitionedDatabase>
{
    EventStreams Streams => new(database.DataSource);

    [Fact]
    public async Task A_transaction_over_two_partitions_is_read_once_per_event_each_with_its_own_partitions_commit()
    {
        // Given a store of 4 partitions whose partition 2 is three commits ahead of partition 0
        var two = PartitionedDatabase.JobIn(2);
        for (var i = 0; i < 3; i++)
        {
            await Streams.AppendToStreamAsync(two, ExpectedVersion.Any, SampleEvents.Events(1), CancellationToken.None);
        }

        // And one transaction appending two events to a job of partition 0 and one to the job of partition 2, so that it
        // has two commits with its transaction id: 1 in partition 0 and 4 in partition 2
        var zero = PartitionedDatabase.JobIn(0);
        await Streams.InTransactionAsync(async transaction =>
        {
            await Streams.AppendToStreamAsync(transaction, zero, ExpectedVersion.Any, SampleEvents.Events(2), CancellationToken.None);
            return await Streams.AppendToStreamAsync(transaction, two, ExpectedVersion.Any, SampleEvents.Events(1), CancellationToken.None);
        }, CancellationToken.None);

        // When a checkpoint has read partition 0 to that transaction's commit there (1) and partition 2 to the commit before
        // it there (3)
        const string checkpoint = "partitioned-reader";
        await CountAsync($"""
            insert into es.checkpoints (name, partition, commit, position)
            select '{checkpoint}', c.partition, c.commit, max(e.global_position)
              from es.commits c join es.events e on e.tx_id = c.tx_id and e.partition = c.partition
             where (c.partition, c.commit) in ((0, 1), (2, 3))
             group by c.partition, c.commit
             returning 1
            """);

        // Then partition 0's job is processed and partition 2's is not, each judged by its own partition's commits
        Assert.Equal(4L, await CountAsync("select max(commit) from es.commits where partition = 2"));
        var probe = new StoreProbe(database.DataSource);
        Assert.True(await probe.HasProcessedAsync(checkpoint, zero));
        Assert.False(await probe.HasProcessedAsync(checkpoint, two));

        // And exactly one event is unread: partition 2's of that transaction, once although the transaction has two commits
        Assert.Equal(0L, await UnreadAsync(checkpoint, partition: 0));
        Assert.Equal(1L, await UnreadAsync(checkpoint, partition: 2));
    }

    Task<long> UnreadAsync(string checkpoint, int partition) =>
        CountAsync($"select count(*) from es.checkpoints c cross join lateral {UnreadEvents.After("c", 1000)} unread where c.name = '{checkpoint}' and c.partition = {partition}");

    async Task<long> CountAsync(string sql)
    {
        await using var command = database.DataSource.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
