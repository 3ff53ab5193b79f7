using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Streaming.Contracts;
using Streaming.Embedded.Broker;
using Streaming.Ingest.Consuming;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Ingest;

/// <summary>
/// A partition librdkafka delivers nothing from while its log grows (its fetches failing for a while, injected into the
/// broker), beside a partition of the same consumer that keeps it busy: the consumer never idles, and the
/// silent-partition watch runs between its batches.
/// </summary>
public sealed class SilentPartitionTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_partition_that_delivers_nothing_is_started_again_while_another_keeps_its_consumer_busy_and_nothing_is_lost()
    {
        // Given one consumer reading two partitions, each with a stored signal; its fetches wait at most 5 ms for data (the
        // embedded broker holds a fetch that finds nothing for the whole wait, 500 ms by default, which would leave the
        // consumer idle between the answers)
        await using var database = await IngestProbe.MigratedAsync();
        await using var ingest = new StandaloneIngest(database.ConnectionString, partitions: 2,
            settings: new Dictionary<string, string?> { ["Kafka:Client:fetch.wait.max.ms"] = "5" });
        await ingest.StartAsync();
        ingest.Produce(IngestProbe.Signals("busy-0", 1, 1), partition: 0);
        ingest.Produce(IngestProbe.Signals("silent-1", 1, 1), partition: 1);
        await Eventually.True(async () => await IngestProbe.StoredAsync(database, 0) == 1 && await IngestProbe.StoredAsync(database, 1) == 1,
            Timeout, "a signal of each partition to be stored");

        // When partition 1's next 30 fetches fail (librdkafka backs off 500 ms after each and delivers nothing meanwhile)
        // and its job sends 5 signals, while partition 0's job sends one after another, each as soon as the broker has the
        // last, so the consumer always has something to read
        ingest.Kafka.PushPartitionErrors(Topics.Signals, 1, KafkaApiKey.Fetch, ErrorCode.NotLeaderForPartition, count: 30);
        ingest.Produce(IngestProbe.Signals("silent-1", 2, 5), partition: 1);
        using var stopping = new CancellationTokenSource();
        var busySeq = 1;
        var busy = Task.Run(() =>
        {
            while (!stopping.IsCancellationRequested)
            {
                ingest.Produce(IngestProbe.Signals("busy-0", busySeq + 1, 1), partition: 0);
                busySeq++;
            }
        });

        // Then the watch finds partition 1 silent and starts its fetcher again at its stored offset
        await Eventually.True(() => Task.FromResult(ingest.Counters.Restarted > 0), Timeout, "partition 1 to be started again",
            () => Task.FromResult($"{busySeq} signals sent to partition 0; consumers: {ingest.Services.GetRequiredService<ConsumerStates>()}"));
        await stopping.CancelAsync();
        await busy;
        var restart = Assert.Single(ingest.Logs.Entries, e => e.Level == LogLevel.Warning && e.Message.StartsWith("Partition 1 of job-signals", StringComparison.Ordinal));
        Assert.Contains("past its stored offset 1: started its fetcher again there", restart.Message, StringComparison.Ordinal);

        // And every signal of both partitions is stored, once
        await Eventually.True(async () => await IngestProbe.StoredAsync(database, 1) == 6 && await IngestProbe.StoredAsync(database, 0) == busySeq,
            Timeout, "every signal to be stored");
        Assert.Equal(6, await IngestProbe.EventCountAsync(database, "silent-1"));
        Assert.Equal(busySeq, await IngestProbe.EventCountAsync(database, "busy-0"));
        Assert.Equal(0, ingest.Counters.Duplicates);
    }
}
