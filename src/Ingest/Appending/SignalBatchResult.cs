namespace Streaming.Ingest.Appending;

/// <summary>One outcome and one stream version (0 when not appended) per input signal, in input order.</summary>
public sealed record SignalBatchResult(IReadOnlyList<SignalAppendOutcome> Outcomes, IReadOnlyList<long> Versions);
