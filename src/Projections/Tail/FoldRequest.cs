using System.Threading.Channels;
using Streaming.EventStore;

namespace Streaming.Projections.Tail;

/// <summary>What a fold's loop asks of the <see cref="LogTail"/>'s reader, which alone decides who is handed the log.</summary>
internal abstract record FoldRequest
{
    /// <summary>The fold caught up on its own to <paramref name="Position"/> and asks for a queue again.</summary>
    public sealed record Join(FoldSlot Slot, LogPositions Position) : FoldRequest
    {
        public TaskCompletionSource<ChannelReader<LogBatch>?> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>The fold moved back to an earlier checkpoint: its <paramref name="Queue"/> does not follow it any more.</summary>
    public sealed record Leave(FoldSlot Slot, ChannelReader<LogBatch> Queue) : FoldRequest;
}
