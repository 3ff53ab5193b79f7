using System.Diagnostics.Metrics;
using Streaming.EventStore;
using Streaming.Hosting.Telemetry;

namespace Streaming.Projections.Tail;

/// <summary>
/// The commits the tail has read from the log: how long after its commit each became visible to the tail (a histogram),
/// and the last one of each partition, which <see cref="VerifyAsync"/> checks is still in the log after a database outage. Not thread-safe:
/// one per reading loop.
/// </summary>
public sealed class TailCommits
{
    static readonly Histogram<double> Visible = StreamingTelemetry.Meter.CreateHistogram<double>(
        "streaming.tail.commit_visible", "ms", "From an appending transaction's commit to the tail's first read of it");

    readonly TimeProvider _clock;
    readonly SortedDictionary<int, (long Commit, DateTimeOffset CommittedAt)> _last = [];

    public TailCommits(TimeProvider? clock = null) => _clock = clock ?? TimeProvider.System;

    /// <summary>The last commit read in each partition and when it was committed; none before any.</summary>
    public IReadOnlyDictionary<int, (long Commit, DateTimeOffset CommittedAt)> Last => _last;

    /// <summary>Records the commits of a batch read from the log (not the archive, which keeps no commit times).</summary>
    public void Read(LogBatch batch)
    {
        if (batch.FromArchive)
        {
            return;
        }
        var now = _clock.GetUtcNow();
        var (partition, last) = (-1, 0L);
        foreach (var logEvent in batch.Events)
        {
            var recorded = logEvent.Event;
            if (recorded.Partition == partition && recorded.Commit == last)
            {
                continue;
            }
            (partition, last) = (recorded.Partition, recorded.Commit);
            _last[partition] = (last, recorded.CommittedAt);
            Visible.Record(Math.Max(0, (now - recorded.CommittedAt).TotalMilliseconds));
        }
    }

    /// <summary>Throws <see cref="LogRewoundException"/> when the last commit read of a partition is no longer in the log as it was read.</summary>
    public async Task VerifyAsync(EventLog log, CancellationToken cancellationToken)
    {
        foreach (var (partition, (commit, committedAt)) in _last)
        {
            if (!await log.VerifyCommitAsync(partition, commit, committedAt, cancellationToken))
            {
                throw new LogRewoundException(commit, committedAt, partition);
            }
        }
    }
}
