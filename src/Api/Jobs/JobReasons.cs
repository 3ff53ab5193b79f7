using System.Globalization;
using Streaming.Api.Fleet;
using Streaming.Lifecycle;

namespace Streaming.Api.Jobs;

/// <summary>Says in words why a job carries a flag, from its row, its lifecycle state and the policy version that governs it.</summary>
public static class JobReasons
{
    public static string For(string flag, JobRow row, LifecyclePolicy? policy)
    {
        var lifecycle = row.ReadLifecycle();
        switch (flag)
        {
            case LifecycleFlags.Stuck when policy is not null:
                var report = JobLifecycleDecider.Evaluate(lifecycle, policy);
                return report.Blocking is { } blocking
                    ? $"{Describe(blocking)}; in {row.Phase} for {Duration(report.TimeInPhase)}"
                    : $"criteria have not passed {report.PromoteAfter} times in a row; in {row.Phase} for {Duration(report.TimeInPhase)}";
            case LifecycleFlags.Drifted:
                return $"assigned {row.Phase} at {Time(row.AssignedAt)}, still reports {row.LastReportedPhase ?? "nothing"}";
            case FleetFlags.Regressed:
                return $"demoted to {row.Phase} at {Time(row.LastChangedAt)}";
            case LifecycleFlags.Quarantined:
                return $"quarantined at {Time(lifecycle.QuarantinedAt)} after {row.PhaseChanges} phase changes; released by an operator only";
            case LifecycleFlags.Held or LifecycleFlags.Pinned when lifecycle.ActiveOverride is { } active:
                return $"{OverrideKinds.Name(active.Kind)}{(active.Phase is null ? "" : " to " + active.Phase)} by {active.Actor}: {active.Reason}" +
                    (active.ExpiresAt is { } until ? $" (until {Time(until)})" : "");
            case LifecycleFlags.KnownIssue:
                return "held by " + string.Join(", ", row.Flags.Where(f => f.StartsWith(LifecycleFlags.KnownIssue + ":", StringComparison.Ordinal))
                    .Select(f => f[(LifecycleFlags.KnownIssue.Length + 1)..]));
            case LifecycleFlags.WaitingForSlot:
                return row.WaitingFor ?? "waiting for a slot";
            case LifecycleFlags.AwaitingApproval when policy?.NextPhase(row.Phase) is { } next:
                return row.Flags.Contains(LifecycleFlags.Approved)
                    ? $"{row.Phase} → {next} approved; moves at its next signal if the criteria still hold"
                    : $"{row.Phase} → {next} passed its criteria; waits for an operator's approval";
            case FleetFlags.Poisoned:
                return "an event of this job could not be applied and was skipped";
            default:
                return flag;
        }
    }

    public static string Describe(CriterionResult result) =>
        $"{result.Metric} {Aggregations.Name(result.Aggregation)} = {Number(result.Value)} " +
        (result.Verdict == Verdict.NoData
            ? $"(only {result.Samples} samples)"
            : $"fails {result.Comparison.Symbol()} {Number(result.Threshold)}");

    static string Number(double? value) => value is { } v ? v.ToString("0.######", CultureInfo.InvariantCulture) : "no data";

    internal static string Time(DateTimeOffset? at) => at?.ToUniversalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "?";

    internal static string Duration(TimeSpan span) => span.TotalHours >= 1 ? $"{span.TotalHours:0.#} h" : $"{span.TotalMinutes:0} min";
}
