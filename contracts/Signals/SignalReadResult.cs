namespace Streaming.Contracts.Signals;

/// <summary>
/// Either a valid signal or the reason it was rejected. <paramref name="StorableAsSent"/>: the value, byte for byte, is
/// also a <c>signal-recorded/v1</c> body that every reader of one reads as exactly this signal, and holds nothing else (no
/// unknown field, no label whose name looks secret), so it can be stored as it came.
/// </summary>
public sealed record SignalReadResult(JobSignal? Signal, string? RejectionReason, bool StorableAsSent = false)
{
    public static SignalReadResult Accepted(JobSignal signal, bool storableAsSent = false) => new(signal, null, storableAsSent);

    public static SignalReadResult Rejected(string reason) => new(null, reason);
}
