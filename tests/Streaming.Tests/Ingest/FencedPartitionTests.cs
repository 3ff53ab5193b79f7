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
        await using var ingest = new StandaloneIngest(database.ConnectionString, partitions: 3);
        await ingest.StartAsync();
        ingest.Produce(IngestProbe.Signals("fenced-a", 1, 1), partition: 0);
        ingest.Produce(IngestProbe.Signals("fenced-b", 1, 1), partition: 1);
        ingest.Produce(IngestProbe.Signals("fenced-c", 1, 1), partition: 2);
        await Eventually.True(
            async () => await IngestProbe.StoredAsync(database, 0) == 1 && await IngestProbe.StoredAsync(database, 1) == 1 && await IngestProbe.StoredAsync(database, 2) == 1,
            Timeout, "every partition's first message stored");

        // Given another consumer has stored partition 1 up to offset 3 (its messages at offsets 1 and 2) since this one last did
        await using (var command = database.DataSource.CreateCommand("update es.kafka_offsets set next_offset = 3 where partition = 1"))
        {
            Assert.Equal(1, await command.ExecuteNonQueryAsync());
        }

        // And a batch of partition 2 that cannot commit: another transaction holds that partition's stored offset. While an
        // append is in flight the next batch reads on and cannot close, so what arrives meanwhile travels in one batch.
        await using var held = await HeldRows.LockAsync(database, "select from es.kafka_offsets where partition = 2 for update");
        ingest.Produce(IngestProbe.Signals("fenced-c", 2, 1), partition: 2);
        await Eventually.True(held.BlockAnotherAsync, Timeout, "the batch of partition 2 to wait for its stored offset");
        var readBefore = ingest.Counters.Read;

        // When four more signals arrive on each of partitions 0 and 1, all read while that batch waits
        ingest.Produce(IngestProbe.Signals("fenced-a", 2, 4), partition: 0);
        ingest.Produce(IngestProbe.Signals("fenced-b", 2, 4), partition: 1);
        await Eventually.Get(() => Task.FromResult(ingest.Counters.Read), read => read >= readBefore + 8, Timeout, "both partitions' new signals read");
        await held.ReleaseAsync();

        // Then partition 0's are stored in a batch that left partition 1 out, and only partition 1 was fenced
        await Eventually.True(async () => await IngestProbe.StoredAsync(database, 0) == 5 && FenceLogs(ingest).Count > 0, Timeout, "partition 0 stored and the fence logged");
        Assert.Equal(5, await IngestProbe.EventCountAsync(database, "fenced-a"));
        var fenced = Assert.Single(FenceLogs(ingest));
        Assert.Contains("of partition 1:", fenced, StringComparison.Ordinal);
        Assert.EndsWith("(partitions 0)", fenced, StringComparison.Ordinal);
        Assert.Equal(1, ingest.Counters.Fenced);

        // And partition 1 is read again from the stored offset 3: the messages the other consumer stored are not stored twice
        await Eventually.True(async () => await IngestProbe.StoredAsync(database, 1) == 5, Timeout, "partition 1 read again from the store");
        Assert.Equal([1L, 4L, 5L], await IngestProbe.SeqsAsync(database, "fenced-b"));
        Assert.Equal(1, ingest.Counters.Fenced);
        Assert.False(ingest.Run.IsCompleted, "Ingest stopped");
    }

    static List<string> FenceLogs(StandaloneIngest ingest) =>
        [.. ingest.Logs.Entries.Select(e => e.Message).Where(m => m.StartsWith("Another consumer moved the stored offset", StringComparison.Ordinal))];
}
