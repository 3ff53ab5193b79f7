using System.Threading.Channels;
using Streaming.Contracts.PhaseChanges;

namespace Streaming.Promoter.Publishing;

/// <summary>One relay's queue of the <see cref="PhaseChangeFeed"/>: each phase change numbered in the order offered, dropped ones included.</summary>
public sealed class PhaseChangeSubscription(int capacity)
{
    readonly Channel<FedPhaseChange> _queue = Channel.CreateBounded<FedPhaseChange>(new BoundedChannelOptions(capacity)
    {
        SingleReader = true,
        SingleWriter = true,
        FullMode = BoundedChannelFullMode.Wait,
    });
    long _offered;

    public ChannelReader<FedPhaseChange> Reader => _queue.Reader;

    internal void Offer(IReadOnlyList<PhaseChangedMessage> changes)
    {
        foreach (var change in changes)
        {
            // A full queue drops it; the number it would have had tells the relay something is missing.
            _queue.Writer.TryWrite(new FedPhaseChange(++_offered, change));
        }
    }
}
