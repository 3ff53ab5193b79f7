namespace Streaming.Lifecycle;

/// <summary>A criterion as evaluated: the threshold it was held to, its computed value (null without data), how many samples it saw, and the verdict.</summary>
public sealed record CriterionResult(
    string Metric,
    Aggregation Aggregation,
    Comparison Comparison,
    double Threshold,
    double? Value,
    int Samples,
    Verdict Verdict)
{
    public bool Passed => Verdict is Verdict.Pass or Verdict.Ignored;
}
