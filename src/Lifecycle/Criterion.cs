namespace Streaming.Lifecycle;

/// <summary>
/// One condition on one metric: <c>Aggregation(metric over the window) Comparison Threshold</c>. Fewer than
/// <see cref="MinSamples"/> values of the metric in the window is missing data, judged by <see cref="Missing"/>.
/// </summary>
public sealed record Criterion(
    string Metric,
    Aggregation Aggregation,
    Comparison Comparison,
    double Threshold,
    int MinSamples = 1,
    MissingData Missing = MissingData.Hold)
{
    public bool Holds(double value) => Comparison switch
    {
        Comparison.LessOrEqual => value <= Threshold,
        Comparison.Less => value < Threshold,
        Comparison.GreaterOrEqual => value >= Threshold,
        Comparison.Greater => value > Threshold,
        _ => throw new InvalidOperationException($"unknown comparison {Comparison}"),
    };

    /// <summary>Whether <paramref name="other"/>, on the same metric and aggregation, is at least as easy to pass.</summary>
    public bool IsNoLooserThan(Criterion other) => Comparison switch
    {
        Comparison.LessOrEqual or Comparison.Less => Threshold <= other.Threshold,
        _ => Threshold >= other.Threshold,
    };
}
