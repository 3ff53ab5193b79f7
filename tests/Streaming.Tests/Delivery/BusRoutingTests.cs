using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Delivery;

public sealed class BusRoutingTests(RelayHost relay) : IClassFixture<RelayHost>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_job_subscribed_on_the_bus_receives_only_its_own_changes_also_after_it_restarts()
    {
        // Given jobs A and B listening on the bus with ordinary consumers, and job C that nobody listens for
        var (a, b, c) = ($"bus-a-{Guid.NewGuid():N}", $"bus-b-{Guid.NewGuid():N}", $"bus-c-{Guid.NewGuid():N}");
        var queues = relay.Exchange + ".";
        var listeningA = await BusObserver.StartAsync(RabbitMqBroker.Url, relay.Exchange, queues, [a]);
        await using var listeningB = await BusObserver.StartAsync(RabbitMqBroker.Url, relay.Exchange, queues, [b]);

        // When two decisions are recorded for each job
        var first = await RecordedDecisions.AppendAsync(relay.Streams, [a, b, c], 2);

        // Then A's queue delivers A's two, in order, and B's queue B's two
        await Eventually.True(() => Task.FromResult(listeningA.For(a).Count == 2 && listeningB.For(b).Count == 2), Timeout, "each job's two changes");
        Assert.Equal(first[a], listeningA.For(a).Select(m => m.EventId));
        Assert.Equal(first[b], listeningB.For(b).Select(m => m.EventId));

        // When A stops, two more decisions are recorded for each job, and A starts again on its durable queue
        await listeningA.DisposeAsync();
        var second = await RecordedDecisions.AppendAsync(relay.Streams, [a, b, c], 2);
        await Eventually.True(() => Task.FromResult(listeningB.For(b).Count == 4), Timeout, "B's next two changes");
        await using var restartedA = await BusObserver.StartAsync(RabbitMqBroker.Url, relay.Exchange, queues, [a]);

        // Then A receives the two published while it was down, in order, and still nothing of B's or C's
        await Eventually.True(() => Task.FromResult(restartedA.For(a).Count >= 2), Timeout, "A's changes kept while it was down");
        Assert.Equal(second[a], restartedA.For(a).Select(m => m.EventId));
        Assert.Equal([3L, 4L], restartedA.For(a).Select(m => m.Version));
        Assert.Equal(first[b].Concat(second[b]), listeningB.For(b).Select(m => m.EventId));
        Assert.All(listeningA.Received.Concat(restartedA.Received).Concat(listeningB.Received), r => Assert.Equal(r.Queue, r.Change.JobId));
    }
}
