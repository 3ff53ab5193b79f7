using Streaming.Ingest.Appending;
using Streaming.Ingest.DeadLetters;

namespace Streaming.Ingest.Consuming;

/// <summary>
/// How the part of a batch stored on <paramref name="Shard"/> ended: <paramref name="Batch"/> (the part read, less the
/// partitions another consumer had moved the offsets of, <paramref name="Fenced"/>) committed with its outcome; no
/// outcome when nothing of it was left to store, or when its shard could not be reached (<paramref name="StalledBy"/>,
/// only with several shards: nothing of it is known stored, and its partitions are read again from the shard once it answers).
/// </summary>
sealed record BatchWritten(
    int Shard, SignalBatch Batch, SignalBatchResult? Result, List<DeadLetter> Letters, IReadOnlyList<OffsetFencedException> Fenced,
    Exception? StalledBy = null);
