using System.Diagnostics.Metrics;
using Streaming.EventStore;
using Streaming.Hosting.Telemetry;

namespace Streaming.Projections.Tail;

/// <summary>
/// The commits the tail has read from the log: how long after its commit each became visible to the tail (a histogram),
/// and the last one, which <see cref="VerifyAsync"/> checks is still in the log after a database outage. Not thread-safe:
/// one per reading loop.
/// </summary>
public sealed class TailCommits
{
    static readonly Histogram<double> Visible = StreamingTelemetry.Meter.CreateHistogram<double>(
        "streaming.tail.commit_visible", "ms", "From an appending transaction's commit to the tail's first read of it");

    readonly TimeProvider _clock;
    long _last;
    DateTimeOffset _lastCommittedAt;

    public TailCommits(TimeProvider? clock = null) => _clock = clock ?? TimeProvider.System;

    /// <summary>The last commit read and when it was committed; 0 before any.</summary>
    public (long Commit, DateTimeOffset CommittedAt) Last => (_last, _lastCommittedAt);

    /// <summary>Records the commits of a batch read from the log (not the archive, which keeps no commit times).</summary>
    public void Read(LogBatch batch)
    {
        if (batch.FromArchive)
        {
            return;
        }
        var now = _clock.GetUtcNow();
        foreach (var logEvent in batch.Events)
        {
            var recorded = logEvent.Event;
            if (recorded.Commit == _last)
            {
                continue;
            }
            _last = recorded.Commit;
            _lastCommittedAt = recorded.CommittedAt;
            Visible.Record(Math.Max(0, (now - recorded.CommittedAt).TotalMilliseconds));
        }
    }

    /// <summary>Throws <see cref="LogRewoundException"/> when the last commit read is no longer in the log as it was read.</summary>
    public async Task VerifyAsync(EventLog log, CancellationToken cancellationToken)
    {
        if (_last != 0 && !await log.VerifyCommitAsync(_last, _lastCommittedAt, cancellationToken))
        {
            throw new LogRewoundException(_last, _lastCommittedAt);
        }
    }
}
