namespace Streaming.Chaos.Verification;

/// <summary>What one run of the suite sent, what came out of it, and how that compares with an uninterrupted run of the same signals.</summary>
public sealed record RunFigures(
    string Scenario,
    IReadOnlyList<string> Faults,
    long MessagesSent,
    long UniqueSignals,
    long SignalsStored,
    long Lost,
    long Duplicated,
    long Altered,
    long Decisions,
    long DecisionsUnpublished,
    long ConflictingPublications,
    long PublishedMessages,
    long DecisionsMissedByFollower,
    long EventDifferences,
    long ProjectionDifferences,
    long RebuildDifferences,
    long Misplaced,
    IReadOnlyList<string> Unmet,
    int UnexpectedExits,
    int SupervisorExitCode,
    IReadOnlyList<string> Examples,
    TimeSpan Duration)
{
    public IReadOnlyList<string> Failures()
    {
        var failures = new List<string>();
        void Check(long count, string what)
        {
            if (count != 0)
            {
                failures.Add($"{count} {what}");
            }
        }
        Check(Lost, "signals lost (sent, not stored)");
        Check(Duplicated, "signals stored more than once or never sent");
        Check(Altered, "signals stored with other content than the uninterrupted run's");
        Check(EventDifferences, "job events (decisions, deferrals) unlike the uninterrupted run's");
        Check(ProjectionDifferences, "job-state rows unlike the uninterrupted run's");
        Check(RebuildDifferences, "job-state rows unlike a rebuild from the run's own log");
        Check(Misplaced, "job events or job-state rows on another shard than their log partition's");
        Check(DecisionsUnpublished, "decisions never published to job-phase-changes");
        Check(ConflictingPublications, "event ids published with different content");
        Check(DecisionsMissedByFollower, "decisions a consumer group following job-phase-changes never received");
        Check(UnexpectedExits, "service exits the suite did not cause");
        Check(SupervisorExitCode, "= the supervisor's exit code on a requested stop");
        failures.AddRange(Unmet);
        return failures;
    }
}
