namespace Streaming.Contracts.PhaseChanges;

/// <summary>
/// One criterion behind a phase change, as the decision saw it: <c>max(error_rate) &lt;= 0.01</c> is metric
/// <c>error_rate</c>, aggregation <c>max</c>, comparison <c>&lt;=</c>, threshold 0.01; the value computed over the window
/// (null without data), the samples it saw, and the verdict (<c>pass</c>, <c>fail</c>, <c>no-data</c>, <c>ignored</c>).
/// </summary>
public sealed record PhaseChangeCriterion(
    string Metric,
    string Aggregation,
    string Comparison,
    double Threshold,
    double? Value,
    int Samples,
    string Verdict);
