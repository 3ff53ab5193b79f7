using Streaming.Contracts.History;
using Streaming.EventStore;

namespace Streaming.Projections.History;

/// <summary>
/// Encodes a <see cref="HistoryBlock"/> event by event, so what waits for a block to fill is a few bytes per event
/// rather than the events themselves (which would outlive several collections, and be promoted for nothing).
/// </summary>
public sealed class HistoryBlockBuilder : IDisposable
{
    readonly MemoryStream _body = new();
    readonly HistoryWriter _writer;

    public HistoryBlockBuilder()
    {
        _body.WriteByte(HistoryBlock.Format);
        _writer = new HistoryWriter(_body);
    }

    public int Count { get; private set; }

    /// <summary>The position of the last event added.</summary>
    public TailPosition End { get; private set; }

    public void Add(RecordedEvent recorded, SignalRecorded? signal)
    {
        _writer.Write(recorded, signal);
        End = recorded.Position;
        Count++;
    }

    /// <summary>The block's stored form, ending at <see cref="End"/>; nothing can be added after.</summary>
    public byte[] Finish()
    {
        _writer.EndSegment(End);
        return _body.ToArray();
    }

    public void Dispose()
    {
        _writer.Dispose();
        _body.Dispose();
    }
}
