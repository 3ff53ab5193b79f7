using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Ingest;

/// <summary>
/// A consumer finds that another one stored past it on one partition of a batch: it drops that partition alone, stores
/// the batch's other partitions, and reads the dropped one again from the store once the group still says it is its own.
/// </summary>
public sealed class FencedPartitionTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_fenced_partition_is_dropped_and_the_other_partitions_messages_of_the_same_batch_are_stored()
    {
        await using var database = await IngestProbe.MigratedAsync();
        // A tiny batch waits up to 2 s to fill, so what arrives on both partitions together travels in one batch
        await using var ingest = new StandaloneIngest(database.ConnectionString, partitions: 2,
            settings: new Dictionary<string, string?> { ["Ingest:MaxBatchWait"] = "00:00:02", ["Ingest:SmallBatch"] = "50" });
        await ingest.StartAsync();
        ingest.Produce(IngestProbe.Signals("fenced-a", 1, 1), partition: 0);
        ingest.Produce(IngestProbe.Signals("fenced-b", 1, 1), partition: 1);
        await Eventually.True(async () => await IngestProbe.StoredAsync(database, 0) == 1 && await IngestProbe.StoredAsync(database, 1) == 1, Timeout, "both partitions' first message stored");

        // Given another consumer has stored partition 1 up to offset 3 (its messages at offsets 1 and 2) since this one last did
        await using (var command = database.DataSource.CreateCommand("update es.kafka_offsets set next_offset = 3 where partition = 1"))
        {
            Assert.Equal(1, await command.ExecuteNonQueryAsync());
        }

        // When four more signals arrive on each partition
        ingest.Produce(IngestProbe.Signals("fenced-a", 2, 4), partition: 0);
        ingest.Produce(IngestProbe.Signals("fenced-b", 2, 4), partition: 1);

        // Then partition 0's are stored in a batch that left partition 1 out, and only partition 1 was fenced
        await Eventually.True(async () => await IngestProbe.StoredAsync(database, 0) == 5, Timeout, "partition 0 stored");
        Assert.Equal(5, await IngestProbe.EventCountAsync(database, "fenced-a"));
        var fenced = ingest.Logs.Entries.Where(e => e.Message.StartsWith("Another consumer moved the stored offset", StringComparison.Ordinal)).ToList();
        Assert.Single(fenced);
        Assert.Contains("of partition 1:", fenced[0].Message, StringComparison.Ordinal);
        Assert.EndsWith("(partitions 0)", fenced[0].Message, StringComparison.Ordinal);
        Assert.Equal(1, ingest.Counters.Fenced);

        // And partition 1 is read again from the stored offset 3: the messages the other consumer stored are not stored twice
        await Eventually.True(async () => await IngestProbe.StoredAsync(database, 1) == 5, Timeout, "partition 1 read again from the store");
        Assert.Equal([1L, 4L, 5L], await IngestProbe.SeqsAsync(database, "fenced-b"));
        Assert.False(ingest.Run.IsCompleted, "Ingest stopped");
    }
}
