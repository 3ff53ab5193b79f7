using Streaming.EventStore;
using Streaming.Projections.Tail;

namespace Streaming.Projections.History;

/// <summary>
/// Encodes a <see cref="HistoryBlock"/> event by event, so what waits for a block to fill is a few bytes per event
/// rather than the events themselves (which would outlive several collections, and be promoted for nothing).
/// </summary>
public sealed class HistoryBlockBuilder : IDisposable
{
    readonly PooledWriteStream _body = new();
    readonly HistoryWriter _writer;
    bool _finished;

    public HistoryBlockBuilder()
    {
        _body.WriteByte(HistoryBlock.Format);
        _writer = new HistoryWriter(_body);
    }

    public int Count { get; private set; }

    /// <summary>The position of the last event added.</summary>
    public TailPosition End { get; private set; }

    public void Add(LogEvent logEvent)
    {
        _writer.Write(logEvent);
        End = logEvent.Position;
        Count++;
    }

    /// <summary>
    /// The block's stored form, ending at <see cref="End"/>; nothing can be added after. It is the builder's pooled
    /// buffer: valid until the builder is disposed.
    /// </summary>
    public ReadOnlyMemory<byte> Finish()
    {
        if (!_finished)
        {
            _writer.EndSegment(End);
            _finished = true;
        }
        return _body.Written;
    }

    public void Dispose()
    {
        _writer.Dispose();
        _body.Dispose();
    }
}
