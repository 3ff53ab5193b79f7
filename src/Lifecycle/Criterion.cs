namespace Streaming.Lifecycle;

/// <summary>One condition on one metric: <c>Aggregation(metric over the window) Comparison Threshold</c>.</summary>
public sealed record Criterion(string Metric, Aggregation Aggregation, Comparison Comparison, double Threshold)
{
    public bool Holds(double value) => Comparison switch
    {
        Comparison.LessOrEqual => value <= Threshold,
        Comparison.Less => value < Threshold,
        Comparison.GreaterOrEqual => value >= Threshold,
        Comparison.Greater => value > Threshold,
        _ => throw new InvalidOperationException($"unknown comparison {Comparison}"),
    };
}
