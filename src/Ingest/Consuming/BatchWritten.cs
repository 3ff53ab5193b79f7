using Streaming.Ingest.Appending;
using Streaming.Ingest.DeadLetters;

namespace Streaming.Ingest.Consuming;

/// <summary>How a batch's append ended: committed with its outcome, or fenced by another consumer (nothing stored).</summary>
sealed record BatchWritten(SignalBatch Batch, SignalBatchResult? Result, List<DeadLetter> Letters, OffsetFencedException? Fenced);
