namespace Streaming.Ingest.Consuming;

/// <summary>
/// The one append a consumer has in flight: its batch, how each shard's part of it ends (null when stopped or abandoned
/// first), how to abandon it (a revoke that outlasts the drain, a loss), and when it left.
/// </summary>
sealed record InFlightBatch(SignalBatch Batch, Task<IReadOnlyList<BatchWritten>?> Written, CancellationTokenSource Abandon, DateTime Since);
