using Microsoft.Extensions.Logging.Abstractions;
using Streaming.EventStore;
using Streaming.Projector.JobStates;
using Streaming.Projector.Rebuilding;
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
        var inPartitionZero = await CountAsync("select count(*) from es.events where partition = 0");

        // When the job states are rebuilt (the rebuild follows the single position, partition 0)
        var progress = new List<RebuildProgress>();
        var result = await new JobStateRebuild(database.DataSource, NullLogger.Instance).RunAsync(fresh: true, progress.Add, CancellationToken.None);

        // Then it counted each of partition 0's events once, exactly the events it replayed
        Assert.Equal(2, inPartitionZero);
        Assert.Equal((inPartitionZero, inPartitionZero), (progress[^1].Total, result.Events));

        // And its checkpoint, at commit 1 of partition 0, has passed the job of partition 0 although the same
        // transaction's commit in partition 2 is number 4
        var checkpoint = new JobStateGeneration(result.Generation).CheckpointName;
        Assert.Equal(1L, await CountAsync($"select commit from es.checkpoints where name = '{checkpoint}' and partition = 0"));
        Assert.Equal(4L, await CountAsync("select max(commit) from es.commits where partition = 2"));
        Assert.True(await new StoreProbe(database.DataSource).HasProcessedAsync(checkpoint, zero));
        Assert.Equal(0L, await CountAsync($"select count(*) from es.checkpoints c cross join lateral (select 1 {UnreadEvents.From}) unread where c.name = '{checkpoint}'"));
    }

    async Task<long> CountAsync(string sql)
    {
        await using var command = database.DataSource.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
