namespace Streaming.Ingest.Consuming;

/// <summary>The one append a consumer has in flight: its batch, how it ends, and how to abandon it (a revoke that outlasts the drain, a loss).</summary>
sealed record InFlightBatch(SignalBatch Batch, Task<BatchWritten?> Written, CancellationTokenSource Abandon);
