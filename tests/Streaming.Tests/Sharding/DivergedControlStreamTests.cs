using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Projections.Sharding;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Sharding;

/// <summary>A shard whose copy of a control stream is not its home's: the relay stops rather than copy over it (shards of their own: it stops for good).</summary>
public sealed class DivergedControlStreamTests(TwoShardStore shards) : IClassFixture<TwoShardStore>
{
    [Fact]
    public async Task A_relay_stops_at_a_control_stream_the_other_shard_holds_otherwise_than_shard_0()
    {
        // Given a policy stream written to shard 1 directly, then to shard 0
        var stream = PolicyPublished.StreamFor($"diverged-{Guid.NewGuid():N}");
        await new EventStreams(shards.Shard(1)).AppendToStreamAsync(stream, ExpectedVersion.NoStream, [SampleEvents.Event()], CancellationToken.None);
        await new EventStreams(shards.Shard(0)).AppendToStreamAsync(stream, ExpectedVersion.NoStream, [SampleEvents.Event()], CancellationToken.None);

        // When the relay copies shard 0's event, Then it refuses to put it at another version than shard 0's
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => new ControlRelay(shards.Shard(1), shards.Shard(0)).CatchUpAsync(CancellationToken.None));
        Assert.Contains(stream, refused.Message, StringComparison.Ordinal);
    }
}
