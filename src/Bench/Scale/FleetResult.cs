namespace Streaming.Bench.Scale;

/// <summary>
/// A simulated fleet over shards: every job signalled at least once, then steady load, timed until every fold of
/// every shard was current; each process's peak resident set and what it held once current, and each shard's rows.
/// </summary>
public sealed record FleetResult(
    int Jobs,
    int Shards,
    int Instances,
    long Signals,
    TimeSpan EveryJobProducedAfter,
    TimeSpan Current,
    IReadOnlyDictionary<string, long> PeakRssBytes,
    IReadOnlyDictionary<string, long> RssBytesWhenCurrent,
    IReadOnlyList<ShardRows> Rows)
{
    public const long RssLimitBytes = 1L << 30;

    public double PerSecond => Signals / Current.TotalSeconds;

    public long MaxPeakRssBytes => PeakRssBytes.Values.DefaultIfEmpty().Max();

    /// <summary>Every job has a stream, a projected state and a Promoter state, on one shard, and no process reached 1 GiB.</summary>
    public bool Valid =>
        Rows.Sum(r => r.JobStreams) == Jobs && Rows.Sum(r => r.ProjectedStates) == Jobs && Rows.Sum(r => r.PromoterStates) == Jobs
        && MaxPeakRssBytes < RssLimitBytes;
}
