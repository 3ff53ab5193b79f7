using Streaming.Ingest.Appending;
using Streaming.Ingest.DeadLetters;

namespace Streaming.Ingest.Consuming;

/// <summary>What one batch's attempts share: the outcome an attempt reached before committing.</summary>
sealed class BatchAttempt
{
    public (SignalBatchResult Result, List<DeadLetter> Letters)? Outcome { get; set; }
}
