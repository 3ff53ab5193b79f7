using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Hosting.Resilience;

namespace Streaming.Hosting;

/// <summary>
/// Brings the event store's schema up to date before any other part of the process starts: the store's own migrations
/// and those the process's parts registered (<see cref="SchemaMigrationExtensions.AddSchemaMigrations"/>). A database
/// that is not reachable yet (the service started first, or during an outage) is waited for with backoff, the process
/// not ready meanwhile, instead of failing the start; a stop requested while waiting ends the wait. A store of several
/// shards (<see cref="StoreShards"/>) has every shard migrated, one after another, each with the configured partition
/// count, which a shard's existing store must have too: the process starts once every shard has its schema.
/// </summary>
sealed class EventStoreMigration(
    StoreShards shards, IEnumerable<SchemaMigrationRegistration> registrations, IConfiguration configuration, LoopHealth health,
    ILogger<EventStoreMigration> logger)
    : IHostedService
{
    public const string LoopName = "schema migration";

    public const string LogPartitionsKey = "Store:LogPartitions";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        for (var shard = 0; shard < shards.Count; shard++)
        {
            await MigrateAsync(shards.DataSource(shard), shard == 0 ? LoopName : $"{LoopName} (shard {shard})", cancellationToken);
        }
    }

    async Task MigrateAsync(NpgsqlDataSource dataSource, string loop, CancellationToken cancellationToken)
    {
        var outage = new Outage(loop, health, logger);
        while (true)
        {
            try
            {
                await EventStoreSchema.MigrateAsync(dataSource, registrations.SelectMany(r => r.Migrations), Partitioning(), cancellationToken);
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

    // Store:LogPartitions, when set, is the partition count a new store is created with and an existing one must have.
    LogPartitioner? Partitioning() =>
        configuration.GetValue<int?>(LogPartitionsKey) is { } partitions ? new LogPartitioner(partitions, ControlStreamPrefixes.All) : null;
}
