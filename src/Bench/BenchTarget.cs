namespace Streaming.Bench;

/// <summary>One of the targets, as a ratio or an absolute figure: met when the value passes the threshold; the goal, if any, is where it should end up.</summary>
public sealed record BenchTarget(string Name, double Value, double Threshold, string Comparison, double? Goal = null)
{
    public bool Met => Comparison == "<" ? Value < Threshold : Value >= Threshold;

    public string Describe() => $"{Comparison} {Threshold:#,0.##}{(Goal is { } goal ? $" (goal {goal:#,0.##})" : "")}";
}
