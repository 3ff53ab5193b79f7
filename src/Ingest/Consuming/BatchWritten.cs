using Streaming.Ingest.Appending;
using Streaming.Ingest.DeadLetters;

namespace Streaming.Ingest.Consuming;

/// <summary>
/// How a batch's append ended: <paramref name="Batch"/> (the batch read, less the partitions another consumer had moved
/// the offsets of, <paramref name="Fenced"/>) committed with its outcome; no outcome when nothing of it was left to store.
/// </summary>
sealed record BatchWritten(SignalBatch Batch, SignalBatchResult? Result, List<DeadLetter> Letters, IReadOnlyList<OffsetFencedException> Fenced);
