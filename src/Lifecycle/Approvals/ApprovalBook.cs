namespace Streaming.Lifecycle.Approvals;

/// <summary>
/// The jobs that wait for a person's approval to pass a gate, kept in log order beside the jobs' own states. A request
/// starts when the policy would promote a job through a gate marked <c>approval: required</c>; an approval of that gate
/// permits the one move it was given for; the request (and its approval) lapses when the job stops qualifying before
/// the move. Time is event time only, so live decisions, rebuilds and backtests agree.
/// </summary>
public sealed class ApprovalBook
{
    readonly SortedDictionary<string, PendingApproval> _pending = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, PendingApproval> Pending => _pending;

    public PendingApproval? Of(string jobId) => _pending.GetValueOrDefault(jobId);

    /// <summary>
    /// Whether the promotion may go ahead: only once approved. A job that must wait starts waiting here, and
    /// <paramref name="requested"/> says so (null while it keeps waiting).
    /// </summary>
    public bool Permits(PhaseDecision promotion, out PendingApproval? requested)
    {
        requested = null;
        if (_pending.TryGetValue(promotion.JobId, out var pending) && Same(pending, promotion))
        {
            return pending.Grant is not null;
        }
        requested = new PendingApproval(promotion.JobId, promotion.Policy, promotion.From, promotion.To, promotion.DecidedAt, promotion.DecidingVersion);
        _pending[promotion.JobId] = requested;
        return false;
    }

    /// <summary>
    /// Records an approval of the job's move <paramref name="from"/> → <paramref name="to"/>. It counts only for a request
    /// of that gate that has none yet (one given for a request that lapsed, or twice, changes nothing): false then.
    /// </summary>
    public bool Grant(string jobId, string from, string to, ApprovalGrant grant)
    {
        if (!_pending.TryGetValue(jobId, out var pending) || pending.Grant is not null
            || !string.Equals(pending.From, from, StringComparison.Ordinal) || !string.Equals(pending.To, to, StringComparison.Ordinal))
        {
            return false;
        }
        _pending[jobId] = pending with { Grant = grant };
        return true;
    }

    /// <summary>The move the approval permitted was made: the approval is used up.</summary>
    public void Consume(string jobId) => _pending.Remove(jobId);

    /// <summary>
    /// Ends the job's request when it no longer qualifies for the move it asks for: its gate's criteria failed, it left
    /// the gate's phase or its policy, or it was quarantined. Returns the request that lapsed and why.
    /// </summary>
    public (PendingApproval Lapsed, string Why)? LapseIf(JobLifecycle job)
    {
        if (!_pending.TryGetValue(job.JobId, out var pending))
        {
            return null;
        }
        var why = !string.Equals(job.AssignedPhase, pending.From, StringComparison.Ordinal) ? $"the job left {pending.From} (now {job.AssignedPhase ?? "unassigned"})"
            : !string.Equals(job.Policy, pending.PolicyName, StringComparison.Ordinal) ? $"the job is governed by {job.Policy ?? "no policy"} now"
            : job.Quarantined ? "the job was quarantined"
            : job.LastPromotionVerdict == Verdict.Fail ? $"the criteria of {pending.From} → {pending.To} stopped holding"
            : null;
        if (why is null)
        {
            return null;
        }
        _pending.Remove(job.JobId);
        return (pending, why);
    }

    /// <summary>Puts back a request as saved (<see cref="ApprovalBookSnapshot"/>).</summary>
    internal void Restore(PendingApproval pending) => _pending[pending.JobId] = pending;

    static bool Same(PendingApproval pending, PhaseDecision promotion) =>
        string.Equals(pending.From, promotion.From, StringComparison.Ordinal) && string.Equals(pending.To, promotion.To, StringComparison.Ordinal)
        && string.Equals(pending.PolicyName, promotion.Policy.Split('@')[0], StringComparison.Ordinal);
}
