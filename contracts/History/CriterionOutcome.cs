namespace Streaming.Contracts.History;

/// <summary>
/// One criterion as a decision saw it: the threshold, the computed value (null without data), how many samples it saw
/// and the verdict (<c>pass</c>, <c>fail</c>, <c>no-data</c>, <c>ignored</c>; absent in events written before verdicts had names).
/// </summary>
public sealed record CriterionOutcome(
    string Metric,
    string Aggregation,
    string Comparison,
    double Threshold,
    double? Value,
    int Samples,
    bool Passed,
    string? Verdict = null);
