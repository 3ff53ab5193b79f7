namespace Streaming.EventStore;

/// <summary>A stream's head: its version and the highest seq stored in it (null: no signal yet).</summary>
public readonly record struct StreamHead(long Version, long? LastSeq);
