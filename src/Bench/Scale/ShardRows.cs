namespace Streaming.Bench.Scale;

/// <summary>One shard's rows after a fleet run.</summary>
public sealed record ShardRows(int Shard, long SignalEvents, long JobStreams, long ProjectedStates, long PromoterStates, long Decisions);
