namespace Streaming.Contracts.Signals;

/// <summary>Either a valid signal or the reason it was rejected.</summary>
public sealed record SignalReadResult(JobSignal? Signal, string? RejectionReason)
{
    public static SignalReadResult Accepted(JobSignal signal) => new(signal, null);

    public static SignalReadResult Rejected(string reason) => new(null, reason);
}
