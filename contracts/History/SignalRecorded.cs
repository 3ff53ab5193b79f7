namespace Streaming.Contracts.History;

/// <summary>A job's signal as stored in its stream (event type <c>signal-recorded/v1</c>).</summary>
public sealed record SignalRecorded(
    string JobId,
    long Seq,
    DateTimeOffset EmittedAt,
    string Phase,
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyDictionary<string, string> Labels,
    string? CorrelationId)
{
    public const string EventType = "signal-recorded/v1";
}
