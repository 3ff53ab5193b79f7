namespace Streaming.Ingest.Appending;

/// <summary>What happened to one signal of a batch.</summary>
public enum SignalAppendOutcome
{
    /// <summary>Stored now.</summary>
    Appended,

    /// <summary>The same (stream, seq) with the same content is already stored, or appears earlier in the batch.</summary>
    Duplicate,

    /// <summary>A higher seq of the stream was stored first and this one never was: it arrived out of order.</summary>
    Stale,

    /// <summary>The same (stream, seq) is already stored, or appears earlier in the batch, with different content.</summary>
    Conflicting,
}
