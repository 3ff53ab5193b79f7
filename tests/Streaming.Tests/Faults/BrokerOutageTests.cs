using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Streaming.Embedded.Broker;
using Streaming.Contracts;
using Streaming.Hosting.Kafka;
using Streaming.Projections.Tail;
using Streaming.Projector;
using Streaming.Promoter;
using Streaming.Promoter.Decisions;
using Streaming.Promoter.Publishing;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Faults;

/// <summary>
/// The broker goes away while the Projector and Promoter run on one tail: the relay, unable to publish, is left to
/// catch up on its own instead of holding the reader (and every other fold) back, and rejoins once it has published all.
/// </summary>
public sealed class BrokerOutageTests : IAsyncLifetime
{
    const int Brokers = 3;

    readonly EmbeddedKafkaCluster _kafka = EmbeddedKafkaCluster.Start(Brokers);
    readonly TestDatabase _database = new();

    public async Task InitializeAsync()
    {
        _kafka.CreateTopic(Topics.PhaseChanges, 4);
        await _database.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _database.DisposeAsync();
        _kafka.Dispose();
    }

    [Fact]
    public async Task A_relay_that_cannot_publish_falls_behind_alone_and_catches_up_when_the_broker_is_back()
    {
        // Given the Projector and Promoter in one process, whose tail lets a fold keep at most 60 events waiting
        using var host = ServiceHosts.Build(_database.ConnectionString, _kafka.BootstrapServers, b => b.AddProjector().AddPromoter(),
            new Dictionary<string, string?> { ["Tail:FoldQueueEvents"] = "60", ["Tail:ReadBatchSize"] = "20", ["Tail:StallTimeout"] = "00:00:01" });
        await host.StartAsync();
        var tail = host.Services.GetRequiredService<LogTail>();
        var before = new SignallingFleet(_database.DataSource, "before", 6);
        await before.WriteAsync(0, 40);
        await before.ProcessedAsync(40);

        // When every broker is down while more jobs are written and decided, and go on signalling well after that
        for (var broker = 1; broker <= Brokers; broker++)
        {
            _kafka.SetBrokerDown(broker);
        }
        var during = new SignallingFleet(_database.DataSource, "during", 6);
        await during.WriteAsync(0, 80);

        // Then the projection and the decisions go on without the relay, which is left to catch up on its own
        var store = new StoreProbe(_database.DataSource);
        foreach (var job in during.Jobs)
        {
            await Eventually.Get(() => store.LastSeqAsync(job), s => s == 80, SignallingFleet.Timeout, $"the projection of {job} while the broker is down");
            await Eventually.True(() => store.HasProcessedAsync(DecisionFold.CheckpointName, job), SignallingFleet.Timeout, $"the promoter to pass {job}");
        }
        Assert.False(await store.HasProcessedAsync(PhaseChangeRelay.CheckpointName, during.Healthy.First()), "the relay passed a decision it cannot have published");
        var relay = Relay(tail);
        Assert.True(relay.Detachments > 0, "the relay held the reader back instead of falling behind alone");

        // And when the brokers are back it publishes every decision, and rejoins the reader
        for (var broker = 1; broker <= Brokers; broker++)
        {
            _kafka.SetBrokerUp(broker);
        }
        await during.ProcessedAsync(80);
        await Eventually.True(() => Task.FromResult(Relay(tail).Attached), SignallingFleet.Timeout, "the relay to rejoin the reader");
        var published = SignallingFleet.Published(_kafka.BootstrapServers, before.Healthy.Count() + during.Healthy.Count());
        await during.AssertPublishedAsync(published);
        await before.AssertAsAnUninterruptedRunAsync(published);
        Assert.False(host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested, "the host stopped");
        await host.StopAsync();
    }

    static TailFoldState Relay(LogTail tail) => tail.Folds().Single(f => f.Fold == PhaseChangeRelay.CheckpointName);
}
