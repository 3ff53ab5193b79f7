namespace Streaming.Contracts.History;

/// <summary>One criterion as a decision saw it: the computed value, the threshold and the verdict.</summary>
public sealed record CriterionOutcome(string Metric, string Aggregation, string Comparison, double Threshold, double? Value, int Samples, bool Passed);
