using Streaming.Lifecycle;
using Streaming.LifecycleEvents;

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
    byte[] MetricsJson,
    byte[] LabelsJson)
{
    /// <summary>What <see cref="Policy"/> says of a job no policy selects.</summary>
    public const string NoPolicy = "none";

    public static JobStateRow From(JobStateView view, JobContext context)
    {
        var policy = context.Policy;
        var lifecycle = view.Lifecycle;
        var report = policy is null ? null : JobLifecycleDecider.Evaluate(lifecycle, policy);
        var stuck = report?.Stuck ?? false;
        var regressed = view.LastDirection == "demote";
        var flags = lifecycle.Flags().ToList();
        if (stuck)
        {
            flags.Add(LifecycleFlags.Stuck);
        }
        if (report?.Drifted == true)
        {
            flags.Add(LifecycleFlags.Drifted);
        }
        if (regressed)
        {
            flags.Add("regressed");
        }
        if (view.WaitingFor is not null)
        {
            flags.Add(LifecycleFlags.WaitingForSlot);
        }
        if (view.AwaitingApproval)
        {
            flags.Add(LifecycleFlags.AwaitingApproval);
            if (view.Approved)
            {
                flags.Add(LifecycleFlags.Approved);
            }
        }
        if (view.Silent)
        {
            flags.Add(LifecycleFlags.Silent);
        }
        if (view.Poisoned)
        {
            flags.Add(LifecycleFlags.Poisoned);
        }
        if (context.KnownIssues.Count > 0)
        {
            // Held by a known issue, apart from regressions: the flag, then each issue that holds the job.
            flags.Add(LifecycleFlags.KnownIssue);
            flags.AddRange(context.KnownIssues.Select(id => LifecycleFlags.KnownIssue + ":" + id));
        }
        return new JobStateRow(
            lifecycle.JobId,
            policy?.Id ?? NoPolicy,
            lifecycle.AssignedPhase ?? policy?.FirstPhase ?? lifecycle.LastReportedPhase ?? "",
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
            JobStateTable.ToUtf8Json(lifecycle.LatestMetrics),
            JobStateTable.ToUtf8Json(view.Labels));
    }
}
