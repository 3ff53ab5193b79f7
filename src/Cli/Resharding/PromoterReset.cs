using Npgsql;
using Streaming.Promoter.Decisions;
using Streaming.Promoter.Shadows;

namespace Streaming.Cli.Resharding;

/// <summary>
/// Makes a shard's Promoter fold its log again from the start: its folds' checkpoints and the state saved with them
/// (each job's lifecycle, the fleet's waves and breakers, gates, approvals, shadow tracks) are removed. That state is the
/// shard's as a whole, so it cannot follow a partition to another shard. Folding again decides what was decided before
/// with the same event ids (they derive from the deciding event), which the store keeps once (as schema migration 8 relies on).
/// </summary>
public static class PromoterReset
{
    public static async Task RunAsync(NpgsqlDataSource shard, CancellationToken cancellationToken)
    {
        await using var command = shard.CreateCommand("""
            delete from es.checkpoints where name = any(@folds);
            delete from es.poisoned_events where fold = any(@folds);
            delete from promoter.job_lifecycle_snapshots;
            delete from promoter.fleet_state;
            delete from promoter.shadow_tracks;
            delete from promoter.shadow_agreement;
            delete from promoter.gate_state;
            delete from promoter.silence_entries;
            delete from promoter.approval_state;
            delete from promoter.admission_state;
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]>("folds", [DecisionFold.CheckpointName, ShadowFold.CheckpointName]));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
