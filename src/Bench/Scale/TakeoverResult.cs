namespace Streaming.Bench.Scale;

/// <summary>
/// A Promoter killed (SIGKILL) while signals flow: which partitions it owned, and per partition how long after the
/// kill the first PhaseChanged was committed for a job of it whose deciding signal was produced after the kill (so
/// decided by another Promoter: the takeover); beside it, how
/// long a decision took before the kill, and the survivors' first assignment of a moved partition by their logs.
/// </summary>
public sealed record TakeoverResult(
    int Instances,
    string Killed,
    IReadOnlyList<int> MovedPartitions,
    IReadOnlyDictionary<int, double?> TakeoverSecondsByPartition,
    double? AssignedAfterSeconds,
    double? DecisionSecondsBeforeKillP50,
    double? DecisionSecondsOtherPartitionsAfterKillMax,
    int Probes,
    int Undecided,
    int DecidedTwice,
    double BackgroundStoredPerSecond)
{
    /// <summary>The takeover: until every moved partition had a decision again; null when one never did.</summary>
    public double? Seconds => TakeoverSecondsByPartition.Values.Any(v => v is null) ? null : TakeoverSecondsByPartition.Values.Max();

    public bool Valid => Seconds is not null && Undecided == 0 && DecidedTwice == 0;
}
