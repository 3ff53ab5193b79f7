using Streaming.Lifecycle;

namespace Streaming.Projector.JobStates;

/// <summary>
/// What the dashboards know of one job: its lifecycle state plus what the signals and decisions said last.
/// <see cref="WaitingFor"/>: why the promotion the policy wants waits for a slot, while it does. <see cref="Poisoned"/>: an
/// event of the job's stream could not be applied and was skipped. <see cref="AwaitingApproval"/>: the Promoter asked for an
/// operator's approval of the job's next move; <see cref="Approved"/>: it was given, and the move is still to be made.
/// <see cref="Silent"/>: the Promoter found the job silent (<c>job-silenced/v1</c>), until its next signal.
/// </summary>
public sealed record JobStateView(
    JobLifecycle Lifecycle,
    IReadOnlyDictionary<string, string> Labels,
    string? LastDirection,
    DateTimeOffset? LastChangedAt,
    long StreamVersion,
    string? WaitingFor = null,
    bool Poisoned = false,
    bool AwaitingApproval = false,
    bool Approved = false,
    bool Silent = false);
