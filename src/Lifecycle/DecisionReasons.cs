using System.Globalization;
using System.Text;

namespace Streaming.Lifecycle;

/// <summary>The human-readable reasons of decisions, naming each criterion with its value and threshold.</summary>
static class DecisionReasons
{
    public static string Promotion(PhaseGate gate, TimeSpan timeInPhase, int streak, int samples, IReadOnlyList<CriterionResult> results, QuarantineRule? quarantine)
    {
        var reason = new StringBuilder().Append(CultureInfo.InvariantCulture,
            $"promote {gate.From}→{gate.To}: {Duration(timeInPhase)} in phase ≥ {Duration(gate.Soak)}; {streak} consecutive passing evaluations ≥ {Math.Max(1, gate.Promote.After)}");
        if (results.Count == 0)
        {
            reason.Append(CultureInfo.InvariantCulture, $"; {samples} signals in {Duration(gate.Promote.Window)}");
        }
        foreach (var result in results)
        {
            reason.Append("; ").Append(Describe(result, gate.Promote.Window));
        }
        return Quarantine(reason, quarantine);
    }

    public static string Demotion(PhaseGate admission, int streak, IReadOnlyList<CriterionResult> results, QuarantineRule? quarantine)
    {
        var reason = new StringBuilder().Append(CultureInfo.InvariantCulture,
            $"demote {admission.To}→{admission.From}: {streak} consecutive evaluations failed the {admission.From}→{admission.To} demote criteria; last:");
        var separator = " ";
        foreach (var result in results)
        {
            if (!result.Passed)
            {
                reason.Append(separator).Append(Describe(result, admission.Demote!.Window));
                separator = "; ";
            }
        }
        return Quarantine(reason, quarantine);
    }

    static string Describe(CriterionResult result, TimeSpan window) => result.Value is { } value
        ? string.Create(CultureInfo.InvariantCulture,
            $"{Name(result.Aggregation)} {result.Metric} {value} {(result.Passed ? result.Comparison.Symbol() : result.Comparison.BrokenSymbol())} {result.Threshold} ({result.Samples} samples in {Duration(window)})")
        : string.Create(CultureInfo.InvariantCulture,
            $"{Name(result.Aggregation)} {result.Metric}: {result.Samples} samples in {Duration(window)}, too few ({Verdicts.Name(result.Verdict)})");

    static string Quarantine(StringBuilder reason, QuarantineRule? quarantine) =>
        quarantine is null
            ? reason.ToString()
            : reason.Append(CultureInfo.InvariantCulture,
                $"; quarantined: {quarantine.MaxPhaseChanges} phase changes within {Duration(quarantine.Within)}").ToString();

    static string Duration(TimeSpan span) => span.TotalMinutes.ToString("0.##", CultureInfo.InvariantCulture) + "m";

    static string Name(Aggregation aggregation) => Aggregations.Name(aggregation);
}
