namespace Streaming.Contracts.Signals;

/// <summary>A job's report of the phase it runs in and its metrics: the value of a <c>job-signals</c> message (wire contract <c>job-signal/v1</c>).</summary>
public sealed record JobSignal(
    string Schema,
    string JobId,
    DateTimeOffset EmittedAt,
    long Seq,
    string Phase,
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyDictionary<string, string> Labels,
    string? CorrelationId)
{
    public const string SchemaV1 = "job-signal/v1";
}
