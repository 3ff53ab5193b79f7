using Microsoft.Extensions.Logging;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Ingest;

/// <summary>Every broker of the cluster taken down for real (<c>rd_kafka_mock_broker_set_down</c>) under a standalone Ingest.</summary>
public sealed class BrokerOutageTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Ingest_waits_out_all_brokers_down_reporting_it_once_and_stores_what_comes_after()
    {
        await using var database = await IngestProbe.MigratedAsync();
        await using var ingest = new StandaloneIngest(database.ConnectionString);
        await ingest.StartAsync();
        ingest.Produce(IngestProbe.Signals("brokers-down", 1, 10));
        await IngestProbe.StoredOffsetAsync(database, 10);

        foreach (var broker in new[] { 1, 2, 3 })
        {
            ingest.Kafka.SetBrokerDown(broker);
        }
        await Eventually.True(() => Task.FromResult(!ingest.Health.IsReady), Timeout, "Ingest to report itself not ready");
        foreach (var broker in new[] { 1, 2, 3 })
        {
            ingest.Kafka.SetBrokerUp(broker);
        }
        await Eventually.True(() => Task.FromResult(ingest.Health.IsReady), Timeout, "Ingest to be ready again");
        ingest.Produce(IngestProbe.Signals("brokers-down", 11, 10));

        await IngestProbe.StoredOffsetAsync(database, 20);
        Assert.Equal(20, await IngestProbe.EventCountAsync(database, "brokers-down"));
        Assert.Single(ingest.Logs.Entries, e => e.Level == LogLevel.Warning && e.Message.StartsWith("ingest consumer 1 (brokers): outage began", StringComparison.Ordinal));
        Assert.Single(ingest.Logs.Entries, e => e.Level == LogLevel.Warning && e.Message.StartsWith("ingest consumer 1 (brokers): outage ended", StringComparison.Ordinal));
        Assert.False(ingest.Run.IsCompleted, "the ingest worker stopped");
    }
}
