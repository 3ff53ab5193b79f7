using Streaming.Lifecycle;

namespace Streaming.Projector.JobStates;

/// <summary>
/// What the dashboards know of one job: its lifecycle state plus what the signals and decisions said last.
/// <see cref="WaitingFor"/>: why the promotion the policy wants waits for a slot, while it does.
/// </summary>
public sealed record JobStateView(
    JobLifecycle Lifecycle,
    IReadOnlyDictionary<string, string> Labels,
    string? LastDirection,
    DateTimeOffset? LastChangedAt,
    long StreamVersion,
    string? WaitingFor = null);
