using System.Text;
using Streaming.Contracts.Json;
using Streaming.Contracts.Signals;

namespace Streaming.JobClient.Signals;

/// <summary>
/// Checks a signal against the contract Ingest enforces before it is sent: the reader Ingest itself runs on the exact
/// bytes, and the rules on ids and times it applies (ids without control characters or surrounding spaces,
/// <c>emittedAt</c> not before 2000 and not more than 24 hours ahead).
/// </summary>
static class SignalValidation
{
    static readonly DateTimeOffset Earliest = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
    static readonly TimeSpan MaxAhead = TimeSpan.FromHours(24);

    /// <summary>The reason the signal would be rejected, or null and the signal's wire value.</summary>
    public static string? Problem(JobSignal signal, DateTimeOffset wallClock, out byte[] value)
    {
        value = [];
        if (FieldProblem(signal, wallClock) is { } problem)
        {
            return problem;
        }
        value = ContractsJson.SerializeToUtf8(signal);
        return JobSignalReader.Read(Encoding.UTF8.GetBytes(signal.JobId), value).RejectionReason;
    }

    static string? FieldProblem(JobSignal signal, DateTimeOffset wallClock)
    {
        if ((IdProblem("jobId", signal.JobId) ?? IdProblem("phase", signal.Phase)) is { } idProblem)
        {
            return idProblem;
        }
        foreach (var (name, text) in signal.Labels)
        {
            if ((IdProblem("label name", name) ?? TextProblem($"label '{name}'", text)) is { } labelProblem)
            {
                return labelProblem;
            }
        }
        foreach (var (name, number) in signal.Metrics)
        {
            if (IdProblem("metric name", name) is { } nameProblem)
            {
                return nameProblem;
            }
            if (!double.IsFinite(number))
            {
                return $"metric '{name}' must be a finite number, not {number}";
            }
        }
        if (signal.EmittedAt < Earliest || signal.EmittedAt > wallClock + MaxAhead)
        {
            return $"emittedAt {signal.EmittedAt:O} must be between {Earliest:O} and 24 hours from now";
        }
        return null;
    }

    static string? IdProblem(string what, string value) =>
        string.IsNullOrEmpty(value) ? $"{what} must not be empty" : TextProblem(what, value);

    static string? TextProblem(string what, string value)
    {
        if (value.Any(char.IsControl))
        {
            return $"{what} must not contain control characters";
        }
        return value.Length > 0 && (char.IsWhiteSpace(value[0]) || char.IsWhiteSpace(value[^1]))
            ? $"{what} must not start or end with white space"
            : null;
    }
}
