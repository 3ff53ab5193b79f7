namespace Streaming.Lifecycle.Admissions;

/// <summary>
/// A job's open request for a slot of a gate's wave (<c>admission-requested/v1</c>), granted once <see cref="GrantedAt"/>
/// is set, and usable once the owner's <c>admission-granted/v1</c> for it is read (<see cref="Recorded"/>). It serves the
/// job's wait in <see cref="From"/> after <see cref="PhaseChanges"/> phase changes, no other.
/// </summary>
public sealed record AdmissionEntry(
    Guid RequestId,
    string JobId,
    string Policy,
    string From,
    string To,
    int Priority,
    DateTimeOffset RequestedAt,
    int PhaseChanges,
    DateTimeOffset? GrantedAt = null,
    bool Recorded = false)
{
    public bool Granted => GrantedAt is not null;

    /// <summary>Whether it is the request of this same wait: the job, gate and phase changes alike.</summary>
    public bool SameWait(AdmissionEntry other) =>
        JobId == other.JobId && Policy == other.Policy && From == other.From && To == other.To && PhaseChanges == other.PhaseChanges;

    /// <summary>The queue's order, as in <see cref="QueuedJob.Order"/>: higher priority, then the longest waiting, then job id.</summary>
    public static IComparer<AdmissionEntry> Order { get; } = Comparer<AdmissionEntry>.Create((a, b) =>
        QueuedJob.Order.Compare(new QueuedJob(a.JobId, a.Priority, a.RequestedAt, a.RequestedAt), new QueuedJob(b.JobId, b.Priority, b.RequestedAt, b.RequestedAt)));
}
