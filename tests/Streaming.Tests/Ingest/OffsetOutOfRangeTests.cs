using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streaming.Embedded.Broker;
using Streaming.Contracts;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Hosting.Kafka;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Ingest;

/// <summary>
/// The broker saying an offset is out of range, caused for real: records deleted below the stored offset (as retention
/// does, <c>rd_kafka_mock_partition_delete_records</c>) and out-of-range errors injected into fetches.
/// </summary>
public sealed class OffsetOutOfRangeTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    // Issue 13: RecoverFromOffsetReset re-assigned at the log's start even with the stored offset inside the log.
    [Fact]
    public async Task An_offset_reported_out_of_range_inside_the_log_resumes_at_the_stored_offset_and_reads_nothing_again()
    {
        await using var database = await IngestProbe.MigratedAsync();
        await using var ingest = new StandaloneIngest(database.ConnectionString);
        await ingest.StartAsync();
        ingest.Produce(IngestProbe.Signals("oor-inside", 1, 20));
        await IngestProbe.StoredOffsetAsync(database, 20);

        ingest.Kafka.PushPartitionErrors(Topics.Signals, 0, KafkaApiKey.Fetch, ErrorCode.OffsetOutOfRange);
        // Handled: reported, or (as before the fix) read again from the log's start.
        await Eventually.True(
            () => Task.FromResult(Warned(ingest, "is out of range, but the log holds 0..20") || ingest.Counters.Duplicates > 0), Timeout, "the out-of-range report");
        ingest.Produce(IngestProbe.Signals("oor-inside", 21, 5));

        await IngestProbe.StoredOffsetAsync(database, 25);
        Assert.Equal((25L, 0L, 0L), (ingest.Counters.Appended, ingest.Counters.Duplicates, ingest.Counters.LostToRetention));
        Assert.True(Warned(ingest, "is out of range, but the log holds 0..20"));
        Assert.Equal(25, await IngestProbe.EventCountAsync(database, "oor-inside"));
    }

    // Issue 13: the DATA LOSS count grew with every out-of-range report of the same loss (37 times over in ./run.sh).
    [Fact]
    public async Task Messages_retention_deleted_before_they_were_stored_are_counted_once_each_however_often_the_broker_reports_it()
    {
        await using var database = await IngestProbe.MigratedAsync();
        await using var ingest = new StandaloneIngest(database.ConnectionString);
        await ingest.StartAsync();
        ingest.Produce(IngestProbe.Signals("oor-loss", 1, 10));
        await IngestProbe.StoredOffsetAsync(database, 10);
        await ingest.StopAsync();

        // While Ingest is down, 30 more arrive and retention deletes offsets 10..24, 15 of them never read; the broker
        // then reports the fetch out of range twice more than the deletion alone would.
        ingest.Produce(IngestProbe.Signals("oor-loss", 11, 30));
        ingest.Kafka.DeleteRecords(Topics.Signals, 0, 25);
        ingest.Kafka.PushPartitionErrors(Topics.Signals, 0, KafkaApiKey.Fetch, ErrorCode.OffsetOutOfRange, count: 2);
        await ingest.StartAsync();

        await IngestProbe.StoredOffsetAsync(database, 40);
        Assert.Equal(15, ingest.Counters.LostToRetention);
        var loss = Assert.Single(ingest.Logs.Entries, e => e.Level == LogLevel.Error && e.Message.StartsWith("DATA LOSS", StringComparison.Ordinal));
        Assert.StartsWith("DATA LOSS: retention deleted 15 unread messages of job-signals/0 (offsets 10..24)", loss.Message, StringComparison.Ordinal);
        Assert.Equal(25, await IngestProbe.EventCountAsync(database, "oor-loss"));

        // A restart finds the loss already recorded (the stored offset moved past it) and counts nothing.
        await ingest.StopAsync();
        await ingest.StartAsync();
        ingest.Produce(IngestProbe.Signals("oor-loss", 41, 1));
        await IngestProbe.StoredOffsetAsync(database, 41);
        Assert.Equal(0, ingest.Counters.LostToRetention);
    }

    static bool Warned(StandaloneIngest ingest, string text) =>
        ingest.Logs.Entries.Any(e => e.Level == LogLevel.Warning && e.Message.Contains(text, StringComparison.Ordinal));
}
