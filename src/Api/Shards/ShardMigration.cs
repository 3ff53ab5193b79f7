using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Streaming.EventStore;
using Streaming.Hosting.Resilience;

namespace Streaming.Api.Shards;

/// <summary>
/// Brings shards 1 and up to the schema shard 0 was just brought to (the host's own migration runs first), with shard
/// 0's log partitioning, so a new shard is created with the same partition count; a shard not reachable yet is waited
/// for with backoff, the process not ready meanwhile.
/// </summary>
sealed class ShardMigration(
    StoreShards shards, IEnumerable<SchemaMigrationRegistration> registrations, LoopHealth health, ILogger<ShardMigration> logger) : IHostedService
{
    public const string LoopName = "shard schema migration";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (shards.Count == 1)
        {
            return;
        }
        var migrations = registrations.SelectMany(r => r.Migrations).ToList();
        var outage = new Outage(LoopName, health, logger);
        while (true)
        {
            try
            {
                var partitioning = await EventStoreSchema.ReadPartitioningAsync(shards.Control, cancellationToken);
                foreach (var shard in shards.All.Skip(1))
                {
                    await EventStoreSchema.MigrateAsync(shard, migrations, partitioning, cancellationToken);
                }
                outage.Succeeded();
                return;
            }
            catch (Exception e) when (TransientFaults.IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                if (!await Outage.WaitAsync(outage.Failed(e), cancellationToken))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
