using Streaming.Lifecycle;

namespace Streaming.Projector.JobStates;

/// <summary>The columns of one <c>projections.job_states</c> row, computed from a job's state.</summary>
sealed record JobStateRow(
    string JobId,
    string Policy,
    string Phase,
    DateTimeOffset? AssignedAt,
    DateTimeOffset? PhaseSince,
    bool AwaitingAck,
    string? LastReportedPhase,
    long? LastSeq,
    DateTimeOffset? LastSignalAt,
    long StreamVersion,
    int PhaseChanges,
    string? LastDirection,
    DateTimeOffset? LastChangedAt,
    bool Stuck,
    bool Regressed,
    IReadOnlyList<string> Flags,
    string MetricsJson,
    string CriteriaJson,
    string LabelsJson)
{
    /// <summary>A job is stuck when it has been in a non-terminal phase for three soaks without its criteria passing.</summary>
    const int StuckAfterSoaks = 3;

    public static JobStateRow From(JobStateView view, LifecyclePolicy policy)
    {
        var lifecycle = view.Lifecycle;
        var report = JobLifecycleDecider.Evaluate(lifecycle, policy);
        var stuck = report.NextPhase is not null && report.MinTimeInPhase > TimeSpan.Zero
            && report.TimeInPhase >= report.MinTimeInPhase * StuckAfterSoaks && !report.AllPassed;
        var regressed = view.LastDirection == "demote";
        var flags = lifecycle.Flags().ToList();
        if (stuck)
        {
            flags.Add("stuck");
        }
        if (regressed)
        {
            flags.Add("regressed");
        }
        return new JobStateRow(
            lifecycle.JobId,
            policy.Id,
            lifecycle.AssignedPhase ?? policy.FirstPhase,
            lifecycle.AssignedAt,
            lifecycle.PhaseSince,
            lifecycle.AwaitingAcknowledgement,
            lifecycle.LastReportedPhase,
            lifecycle.LastSeq == 0 ? null : lifecycle.LastSeq,
            lifecycle.LastSignalAt,
            view.StreamVersion,
            lifecycle.PhaseChanges,
            view.LastDirection,
            view.LastChangedAt,
            stuck,
            regressed,
            flags,
            JobStateTable.ToJson(lifecycle.LatestMetrics),
            JobStateTable.ToJson(report),
            JobStateTable.ToJson(view.Labels));
    }
}
