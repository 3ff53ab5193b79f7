namespace Streaming.Api.Jobs;

/// <summary>A job as the jobs list shows it.</summary>
public sealed record JobSummary(
    string JobId, string Policy, string Phase, DateTimeOffset? PhaseSince, string? LastReportedPhase, DateTimeOffset? LastSignalAt,
    int PhaseChanges, IReadOnlyList<string> Flags, IReadOnlyDictionary<string, string> Labels, string? WaitingFor);

/// <summary>
/// A page of jobs; <see cref="Next"/> is the cursor of the next page (null at the end); <see cref="Total"/> on the first
/// page, when asked for (<c>count=true</c>), counted up to <see cref="JobListQuery.CountLimit"/>: <see cref="MoreThanTotal"/>
/// says more match.
/// </summary>
public sealed record JobPage(IReadOnlyList<JobSummary> Jobs, string? Next, long? Total, bool MoreThanTotal = false);
