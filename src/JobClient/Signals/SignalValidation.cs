using System.Text;
using Streaming.Contracts.Json;
using Streaming.Contracts.Signals;
using Streaming.Contracts.Text;

namespace Streaming.JobClient.Signals;

/// <summary>
/// Checks a signal against the contract before it is sent, with the reader Ingest itself runs on the exact bytes and
/// the same event-time window (not before 2000, not more than 24 hours ahead of the message's timestamp, which the
/// producer sets to the wall clock when it sends).
/// </summary>
static class SignalValidation
{
    static readonly TimeSpan MaxClockSkew = TimeSpan.FromHours(24);

    /// <summary>The reason the signal would be rejected, or null and the signal's wire value.</summary>
    public static string? Problem(JobSignal signal, DateTimeOffset wallClock, out byte[] value)
    {
        value = [];
        foreach (var (name, number) in signal.Metrics)
        {
            // JSON has no NaN or infinity, so such a value cannot even be written.
            if (!double.IsFinite(number))
            {
                return $"metric '{UntrustedText.Escape(name)}' must be a finite number, not {number}";
            }
        }
        var bytes = ContractsJson.SerializeToUtf8(signal);
        var problem = JobSignalReader.Read(Encoding.UTF8.GetBytes(signal.JobId), bytes, keyPresent: true, new EventTimeLimit(wallClock, MaxClockSkew))
            .RejectionReason;
        if (problem is null)
        {
            value = bytes;
        }
        return problem;
    }
}
