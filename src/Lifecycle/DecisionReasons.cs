using System.Globalization;
using System.Text;

namespace Streaming.Lifecycle;

/// <summary>The human-readable reasons of decisions, naming each criterion with its value and threshold.</summary>
static class DecisionReasons
{
    public static string Promotion(PhaseGate gate, TimeSpan timeInPhase, int samples, IReadOnlyList<CriterionResult> results)
    {
        var reason = new StringBuilder().Append(CultureInfo.InvariantCulture,
            $"promote {gate.From}→{gate.To}: {Duration(timeInPhase)} in phase ≥ {Duration(gate.MinTimeInPhase)}");
        if (results.Count == 0)
        {
            reason.Append(CultureInfo.InvariantCulture, $"; {samples} signals in {Duration(gate.Window)}");
        }
        foreach (var result in results)
        {
            reason.Append(CultureInfo.InvariantCulture,
                $"; {Name(result.Aggregation)} {result.Metric} {Number(result.Value)} {result.Comparison.Symbol()} {Number(result.Threshold)}")
                .Append(CultureInfo.InvariantCulture, $" ({result.Samples} samples in {Duration(gate.Window)})");
        }
        return reason.ToString();
    }

    public static string Demotion(PhaseGate admission, int breaches, IReadOnlyList<CriterionResult> lastBreach)
    {
        var reason = new StringBuilder().Append(CultureInfo.InvariantCulture,
            $"demote {admission.To}→{admission.From}: {breaches} consecutive signals broke the {admission.From}→{admission.To} criteria; last:");
        var separator = " ";
        foreach (var result in lastBreach)
        {
            if (!result.Passed)
            {
                reason.Append(CultureInfo.InvariantCulture,
                    $"{separator}{result.Metric} {Number(result.Value)} {result.Comparison.BrokenSymbol()} {Number(result.Threshold)}");
                separator = "; ";
            }
        }
        return reason.ToString();
    }

    static string Duration(TimeSpan span) => span.TotalMinutes.ToString("0.##", CultureInfo.InvariantCulture) + "m";

    static string Number(double? value) => value is { } v ? v.ToString(CultureInfo.InvariantCulture) : "none";

    static string Name(Aggregation aggregation) => aggregation switch
    {
        Aggregation.Max => "max",
        Aggregation.Min => "min",
        Aggregation.Avg => "avg",
        Aggregation.Last => "last",
        Aggregation.Sum => "sum",
        Aggregation.Count => "count",
        Aggregation.P50 => "p50",
        Aggregation.P95 => "p95",
        Aggregation.P99 => "p99",
        _ => aggregation.ToString(),
    };
}
