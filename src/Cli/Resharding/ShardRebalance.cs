using System.Diagnostics;
using Npgsql;
using Streaming.EventStore;

namespace Streaming.Cli.Resharding;

/// <summary>One partition's move, as planned and as done: <see cref="CopyNeeded"/> is false when an earlier run copied it and only the source's rows are left.</summary>
public sealed record PartitionPlan(int Partition, int From, int To, bool CopyNeeded);

/// <summary>A partition moved: from which shard to which, and the rows copied per table (none when an earlier run copied it).</summary>
public sealed record MovedPartition(int Partition, int From, int To, IReadOnlyDictionary<string, long> Rows);

/// <summary>What a run did: the shards it left, the partitions it moved, and those still to move when it stopped early.</summary>
public sealed record ReshardResult(int Shards, int Partitions, IReadOnlyList<MovedPartition> Moved, int Left, double Seconds)
{
    public long Events => Moved.Sum(m => m.Rows.GetValueOrDefault("es.events"));
}

/// <summary>
/// Puts every log partition p on shard <c>p mod S'</c> (<see cref="ShardMap"/>), with every service stopped: finds where
/// each partition is (the shard holding its rows), moves each one that is elsewhere (<see cref="PartitionMove"/>) and
/// makes the Promoter of every shard that gains or loses one fold again (<see cref="PromoterReset"/>). The control
/// partition 0 stays on shard 0; a new shard gets its copy from the control relay when its Projector or Promoter starts.
/// </summary>
public static class ShardRebalance
{
    public static async Task<ReshardResult> RunAsync(
        IReadOnlyList<NpgsqlDataSource> shards, int newShards, int? maxMoves, Action<string> progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await StoreSessions.RefuseOthersAsync(shards, cancellationToken);
        var partitioning = await EventStoreSchema.ReadPartitioningAsync(shards[0], cancellationToken);
        if (partitioning.Partitions < newShards)
        {
            throw new CommandFailedException(
                $"the log has {partitioning.Partitions} partitions, too few for {newShards} shards: each shard holds at least one");
        }
        foreach (var shard in shards)
        {
            await EventStoreSchema.MigrateAsync(shard, StoreSchema.ServiceMigrations, partitioning, cancellationToken);
        }
        await using var locks = await StoreSessions.HoldMigrationLocksAsync(shards, cancellationToken);
        await StoreSessions.RefuseOthersAsync(shards, cancellationToken);

        var map = new ShardMap(newShards, partitioning.Partitions);
        var plan = await PlanAsync(shards, map, cancellationToken);
        foreach (var shard in plan.SelectMany(m => new[] { m.From, m.To }).Distinct().Order())
        {
            await PromoterReset.RunAsync(shards[shard], cancellationToken);
        }
        var moved = new List<MovedPartition>();
        foreach (var move in plan.Take(maxMoves ?? int.MaxValue))
        {
            var rows = move.CopyNeeded
                ? await PartitionMove.CopyAsync(shards[move.From], shards[move.To], move.Partition, cancellationToken)
                : new Dictionary<string, long>();
            await PartitionMove.DeleteAsync(shards[move.From], move.Partition, cancellationToken);
            moved.Add(new MovedPartition(move.Partition, move.From, move.To, rows));
            progress($"partition {move.Partition}: shard {move.From} → shard {move.To}, " +
                (move.CopyNeeded ? $"{rows.GetValueOrDefault("es.events"):N0} events" : "copied by an earlier run, removed from the source"));
        }
        return new ReshardResult(newShards, partitioning.Partitions, moved, plan.Count - moved.Count, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Each partition not on its shard of <paramref name="map"/>: where it is, and whether it must still be copied.</summary>
    static async Task<List<PartitionPlan>> PlanAsync(IReadOnlyList<NpgsqlDataSource> shards, ShardMap map, CancellationToken cancellationToken)
    {
        var connections = new List<NpgsqlConnection>();
        try
        {
            foreach (var shard in shards)
            {
                connections.Add(await shard.OpenConnectionAsync(cancellationToken));
            }
            var plan = new List<PartitionPlan>();
            for (var partition = 1; partition < map.Partitions; partition++)
            {
                var target = map.ShardOf(partition);
                var holders = new List<int>();
                for (var shard = 0; shard < shards.Count; shard++)
                {
                    if (await PartitionFingerprint.HoldsAsync(connections[shard], partition, cancellationToken))
                    {
                        holders.Add(shard);
                    }
                }
                var others = holders.Where(h => h != target).ToList();
                if (others.Count == 0)
                {
                    continue;
                }
                if (others.Count > 1)
                {
                    throw new CommandFailedException($"partition {partition} is on shards {string.Join(", ", holders)}: it can only be moved from one");
                }
                var from = others[0];
                var copyNeeded = true;
                if (holders.Contains(target))
                {
                    // An earlier run copied it, or the target holds something else of it: only a copy equal to the source's is kept.
                    var source = await PartitionFingerprint.ReadAsync(connections[from], partition, cancellationToken);
                    var there = await PartitionFingerprint.ReadAsync(connections[target], partition, cancellationToken);
                    if (there == source)
                    {
                        copyNeeded = false;
                    }
                    else if (!there.IsEmpty)
                    {
                        throw new CommandFailedException(
                            $"partition {partition} is on shard {from} and, otherwise, on shard {target} ({there} against {source}): resolve it by hand");
                    }
                }
                plan.Add(new PartitionPlan(partition, from, target, copyNeeded));
            }
            return plan;
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }
}
