namespace Streaming.Lifecycle;

/// <summary>
/// How a job's window stands against any gate rule at its latest signal: each criterion's value, threshold and verdict,
/// for explanations such as charting the rule that moved a job after it left the phase (decisions are made by
/// <see cref="JobLifecycleDecider"/>).
/// </summary>
public static class RuleCheck
{
    public static IReadOnlyList<CriterionResult> Evaluate(JobLifecycle state, GateRule rule) =>
        state.LastSignalAt is { } now ? GateEvaluation.Results(state.Window, now, rule) : [];
}
