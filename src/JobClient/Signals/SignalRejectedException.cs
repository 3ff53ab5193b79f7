namespace Streaming.JobClient.Signals;

/// <summary>A signal the job reported that Streaming would dead-letter; nothing was sent.</summary>
public sealed class SignalRejectedException(string reason) : ArgumentException($"signal rejected: {reason}")
{
    public string Reason { get; } = reason;
}
