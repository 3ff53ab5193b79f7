using Streaming.EventStore;
using Streaming.Projections.Tail;

namespace Streaming.Projections.History;

/// <summary>
/// A run of one log partition in its commit order, as the archive stores it: one <see cref="HistoryWriter"/> segment with its own
/// names, ending at <see cref="End"/>, so any block can be read without the ones before it.
/// </summary>
public sealed record HistoryBlock(TailPosition End, IReadOnlyList<LogEvent> Events)
{
    /// <summary>The log partition whose events the block holds (its events carry it).</summary>
    public int Partition { get; init; }

    internal const byte Format = 1;

    public byte[] Encode()
    {
        using var builder = new HistoryBlockBuilder();
        foreach (var logEvent in Events)
        {
            builder.Add(logEvent);
        }
        return builder.End == End ? builder.Finish().ToArray() : throw new InvalidOperationException($"The block's last event is at {builder.End}, not {End}");
    }

    /// <summary>The block stored as <paramref name="body"/> ending at <paramref name="end"/>, or null when it cannot be read whole.</summary>
    public static HistoryBlock? Decode(TailPosition end, byte[] body) => Decode(end, body, body.Length);

    /// <summary>As <see cref="Decode(TailPosition, byte[])"/>, for a body in the first <paramref name="length"/> bytes of a (pooled) buffer.</summary>
    public static HistoryBlock? Decode(TailPosition end, byte[] buffer, int length)
    {
        if (length < 1 || buffer[0] != Format)
        {
            return null;
        }
        using var input = new MemoryStream(buffer, 0, length, writable: false);
        input.Position = 1;
        using var reader = new HistoryReader(input);
        IReadOnlyList<LogEvent> events = [];
        long validLength = 0;
        var reached = reader.ReadSegments(length, segment => events = segment, ref validLength);
        return reached == end && validLength == length && events.Count > 0 ? new HistoryBlock(end, events) : null;
    }
}
