using Streaming.EventStore;

namespace Streaming.Projections.Tail;

/// <summary>One fold as the tail sees it: how far it has folded, whether the reader hands it the log, what waits for it.</summary>
public sealed record TailFoldState(string Fold, LogPositions Position, bool Attached, int QueuedEvents, long Detachments);
