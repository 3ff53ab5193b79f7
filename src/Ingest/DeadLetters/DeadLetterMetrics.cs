using System.Diagnostics.Metrics;
using Streaming.Hosting.Telemetry;

namespace Streaming.Ingest.DeadLetters;

/// <summary>Dead-lettered messages counted by the kind of reason (a small fixed set, so the series stay few).</summary>
static class DeadLetterMetrics
{
    static readonly Counter<long> DeadLettered = StreamingTelemetry.Meter.CreateCounter<long>(
        "streaming.signals.dead_lettered", "{message}", "Messages sent to the dead-letter topic, by reason");

    public static void Count(IReadOnlyList<DeadLetter> letters)
    {
        foreach (var letter in letters)
        {
            DeadLettered.Add(1, new KeyValuePair<string, object?>("reason", ReasonClass(letter.Reason)));
        }
    }

    /// <summary>What the reason is about: the field it names first, or what kind of input it refused.</summary>
    public static string ReasonClass(string reason) => reason switch
    {
        _ when reason.StartsWith("job ", StringComparison.Ordinal) && reason.EndsWith("(key messages by job id with the murmur2 partitioner)", StringComparison.Ordinal) => "other-shard",
        _ when reason.StartsWith("malformed JSON", StringComparison.Ordinal) => "malformed-json",
        _ when reason.StartsWith("empty value", StringComparison.Ordinal) => "empty",
        _ when reason.StartsWith("value is", StringComparison.Ordinal) => "too-large",
        _ when reason.StartsWith("value must be", StringComparison.Ordinal) => "not-an-object",
        _ when reason.Contains("out of order", StringComparison.Ordinal) => "out-of-order",
        _ when reason.StartsWith("missing key", StringComparison.Ordinal) || reason.StartsWith("key ", StringComparison.Ordinal) => "key",
        _ when reason.Contains("schema", StringComparison.Ordinal) => "schema",
        _ when reason.StartsWith("jobId", StringComparison.Ordinal) => "job-id",
        _ when reason.StartsWith("emittedAt", StringComparison.Ordinal) => "emitted-at",
        _ when reason.StartsWith("seq", StringComparison.Ordinal) => "seq",
        _ when reason.StartsWith("metrics", StringComparison.Ordinal) => "metrics",
        _ when reason.StartsWith("labels", StringComparison.Ordinal) => "labels",
        _ => "other",
    };
}
