using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.EventStore;
using Streaming.Hosting.Resilience;
using Streaming.Projections.Tail;

namespace Streaming.Projections.Ownership;

/// <summary>
/// Runs the process's <see cref="LogTail"/> over the share of the log's partitions its group assigns to it
/// (<see cref="PartitionOwnership"/>), and again over the new share whenever the partitions it follows change: the run
/// stops (every fold writes what it holds, its states and checkpoints), the partitions revoked are released, and the next
/// run starts each fold from its saved checkpoints of the new share; how soon after the stop the partitions kept go on
/// is logged. A change that leaves the partitions followed as they are (a rebalance's last round, which assigns most
/// members nothing new) leaves the run alone. A partition whose checkpoint another instance moved (this one was
/// paused and lost it) is dropped, not the process: the tail runs on without it, and takes it up again only if the group
/// still assigns it once a session timeout has passed.
/// </summary>
public sealed partial class ShareFollower(
    LogTail tail, PartitionOwnership ownership, NpgsqlDataSource dataSource, TimeSpan fencedFor, ILogger<ShareFollower> logger, LoopHealth? health = null)
{
    static readonly TimeSpan SettleAfterFencing = TimeSpan.FromSeconds(2);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // PostgreSQL may be away as the process starts: waited out, as the tail's loops do.
        var partitioner = await new Outage(LogTail.LoopName, health ?? new LoopHealth(), logger)
            .WaitOutAsync(token => EventStoreSchema.ReadPartitioningAsync(dataSource, token), cancellationToken);
        // Fails at once when the log has fewer partitions than the store has shards. In a sharded store the group shares
        // out the served shard's partitions alone (and the control partition with the shard's first).
        await ownership.StartAsync(partitioner.Partitions, cancellationToken);
        var fenced = new Dictionary<int, DateTime>();
        // What the last run followed, and when it was told to stop.
        List<int> previous = [];
        var stoppedAt = 0L;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (ownership.Failure is { } failure)
                {
                    throw new InvalidOperationException($"The membership of group {ownership.Group} failed", failure);
                }
                var share = ownership.Current;
                // Nothing runs now: whatever was revoked until here is no longer worked on.
                ownership.Release();
                var now = DateTime.UtcNow;
                foreach (var partition in fenced.Where(f => f.Value <= now || !share.Partitions.Contains(f.Key)).Select(f => f.Key).ToList())
                {
                    fenced.Remove(partition);
                }
                var owned = Followed(share, fenced);
                using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var followed = owned.Count == 0 ? null : FollowedPartitions.Share(owned, partitioner);
                var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var running = followed is null
                    ? Task.CompletedTask
                    : Task.Run(() => tail.RunAsync(followed, run.Token, () => started.TrySetResult()), CancellationToken.None);
                var kept = previous.Intersect(owned).ToList();
                if (followed is not null)
                {
                    LogFollowing(logger, ownership.Group, followed.ToString());
                }
                else if (share.Partitions.Count > 0)
                {
                    LogNoneOnShard(logger, ownership.Group, string.Join(",", share.Partitions));
                }
                // Until the share changes what the tail follows, the run fails, or a dropped partition may be looked at again.
                var ends = followed is null ? Task.Delay(Timeout.Infinite, cancellationToken) : running;
                var fencedEnds = fenced.Count == 0 ? Task.Delay(Timeout.Infinite, cancellationToken) : UntilAsync(fenced.Values.Min(), cancellationToken);
                var resumed = kept.Count > 0 ? started.Task : Task.Delay(Timeout.Infinite, cancellationToken);
                while (true)
                {
                    await Task.WhenAny(ends, share.Changed, fencedEnds, resumed).ConfigureAwait(false);
                    if (resumed.IsCompletedSuccessfully)
                    {
                        LogResumed(logger, ownership.Group, string.Join(",", kept), Stopwatch.GetElapsedTime(stoppedAt).TotalMilliseconds);
                        resumed = Task.Delay(Timeout.Infinite, cancellationToken);
                        continue;
                    }
                    if (!share.Changed.IsCompleted || ends.IsCompleted || fencedEnds.IsCompleted || ownership.Failure is not null)
                    {
                        break;
                    }
                    // A change of other partitions than those followed (a rebalance's last round assigns most members
                    // nothing new) leaves the run as it is.
                    var next = ownership.Current;
                    if (!Followed(next, fenced).SequenceEqual(owned))
                    {
                        break;
                    }
                    ownership.ReleaseIfCurrent(next);
                    share = next;
                }
                stoppedAt = Stopwatch.GetTimestamp();
                previous = owned;
                await run.CancelAsync();
                try
                {
                    await running;
                }
                catch (OperationCanceledException) when (run.IsCancellationRequested)
                {
                }
                catch (CheckpointConflictException conflict) when (!cancellationToken.IsCancellationRequested)
                {
                    foreach (var partition in conflict.Partitions)
                    {
                        fenced[partition] = DateTime.UtcNow + fencedFor;
                    }
                    LogFenced(logger, conflict, conflict.Name, string.Join(",", conflict.Partitions), fencedFor);
                    // An instance that was paused learns from its group a moment later which other partitions it lost:
                    // give that a heartbeat or two before following the rest again.
                    await Task.WhenAny(share.Changed, Task.Delay(SettleAfterFencing, cancellationToken)).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            // Every fold wrote what it holds above: the group may hand the partitions on at once.
            ownership.Close();
        }
    }

    static List<int> Followed(OwnedShare share, Dictionary<int, DateTime> fenced) =>
        [.. share.Partitions.Where(p => !fenced.ContainsKey(p))];

    // A timer may end a few milliseconds before the clock reads its deadline (it counts coarser ticks): ending early would
    // stop the run only to start it again over the same partitions.
    static async Task UntilAsync(DateTime deadline, CancellationToken cancellationToken)
    {
        while (deadline - DateTime.UtcNow is { Ticks: > 0 } left)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(left.TotalMilliseconds)), cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {Group} assigns partitions {Partitions}, none of them followed now (dropped for a while after a fencing): the tail waits")]
    static partial void LogNoneOnShard(ILogger logger, string group, string partitions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {Group}: the tail follows partitions {Partitions}")]
    static partial void LogFollowing(ILogger logger, string group, string partitions);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Group {Group}: the tail resumed partitions {Partitions}, which it kept, {PauseMs:0} ms after its last run was told to stop")]
    static partial void LogResumed(ILogger logger, string group, string partitions, double pauseMs);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "{Fold}'s checkpoint of partitions {Partitions} was moved by another instance: this one lost them while it was away, drops them, and looks again after {FencedFor}")]
    static partial void LogFenced(ILogger logger, Exception exception, string fold, string partitions, TimeSpan fencedFor);
}
