namespace Streaming.EventStore;

/// <summary>A stream's head: its version, the highest seq stored in it (null: no signal yet) and its log partition.</summary>
public readonly record struct StreamHead(long Version, long? LastSeq, int Partition = 0);
