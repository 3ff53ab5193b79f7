namespace Streaming.Lifecycle;

/// <summary>
/// How a job stands against the demote rule of the gate that admitted it to its phase: each criterion's value over
/// the rule's window at the job's latest signal, for explanations (the decisions themselves are made by
/// <see cref="JobLifecycleDecider"/>). Empty when the phase has no demote rule.
/// </summary>
public static class DemotionCheck
{
    public static IReadOnlyList<CriterionResult> Evaluate(JobLifecycle state, LifecyclePolicy policy)
    {
        if (state.AssignedPhase is not { } phase || policy.AdmissionGate(phase)?.Demote is not { } demote || state.LastSignalAt is not { } now)
        {
            return [];
        }
        return GateEvaluation.Results(state.Window, now, demote);
    }
}
