namespace Streaming.EventStore;

/// <summary>An event as stored; <see cref="Position"/> is where the gap-free tail puts it.</summary>
public sealed record RecordedEvent(
    long GlobalPosition,
    ulong TxId,
    string StreamId,
    long Version,
    Guid EventId,
    string Type,
    string Data,
    string Metadata,
    long? Seq,
    DateTimeOffset EventTime,
    DateTimeOffset RecordedAt)
{
    public TailPosition Position => new(TxId, GlobalPosition);
}
