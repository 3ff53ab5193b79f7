namespace Streaming.EventStore;

/// <summary>A stream's head: its version and the highest seq stored in it (null: no signal yet).</summary>
readonly record struct StreamHead(long Version, long? LastSeq);
