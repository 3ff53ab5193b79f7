namespace Streaming.Lifecycle;

/// <summary>A criterion as evaluated: its computed value (null without data), how many samples it saw, and the verdict.</summary>
public sealed record CriterionResult(string Metric, Aggregation Aggregation, Comparison Comparison, double Threshold, double? Value, int Samples, bool Passed);
