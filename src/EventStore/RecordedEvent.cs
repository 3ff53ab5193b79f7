namespace Streaming.EventStore;

/// <summary>An event as stored (<see cref="Metadata"/> null: none, as for signals Ingest stores); <see cref="Position"/> is where the commit-ordered tail puts it.</summary>
public sealed record RecordedEvent(
    long GlobalPosition,
    long Commit,
    string StreamId,
    long Version,
    Guid EventId,
    string Type,
    string Data,
    string? Metadata,
    long? Seq,
    DateTimeOffset EventTime,
    DateTimeOffset RecordedAt)
{
    public TailPosition Position => new(Commit, GlobalPosition);

    /// <summary>The log partition of the event's stream; <see cref="Position"/> is its place in that partition's commit order.</summary>
    public int Partition { get; init; }

    /// <summary>When the appending transaction recorded its commit (just before it became visible); not kept in the archive.</summary>
    public DateTimeOffset CommittedAt { get; init; }
}
