using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.EventStore;
using Streaming.Hosting.Kafka;
using Streaming.Hosting.Resilience;
using Streaming.Projections.Sharding;
using Streaming.Promoter.Policies;

namespace Streaming.Promoter;

/// <summary>
/// Publishes the policy folder and makes sure of the phase-change topic before the Promoter counts as started (the
/// process's tail, and so every decision and publication, waits for that), then keeps publishing what changes in the
/// folder, waiting out database outages. A Promoter of a shard other than 0 publishes to shard 0, the control streams'
/// home, and copies the control streams into its own shard before it counts as started, so that its folds read the
/// policies it published as a Promoter of one store does; its shard's Projectors relay what comes later.
/// </summary>
sealed class PromoterWorker(
    PolicyDirectory policies,
    KafkaOptions kafka,
    TopicProvisioner topics,
    ControlStore home,
    NpgsqlDataSource shard,
    LoopHealth health,
    ILogger<PromoterWorker> logger) : BackgroundService
{
    const string LoopName = "promoter:policy-folder";

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (home.IsLocal)
        {
            await policies.SyncAsync(cancellationToken);
        }
        else
        {
            await PublishIntoShardAsync(cancellationToken);
        }
        await topics.EnsureCompactedTopicAsync(kafka.PhaseChangesTopic, cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        policies.RunAsync(new Outage(LoopName, health, logger), stoppingToken);

    // Shard 0 may be away or not migrated yet (its processes start beside this one): waited out, the process not ready meanwhile.
    async Task PublishIntoShardAsync(CancellationToken cancellationToken)
    {
        var outage = new Outage(LoopName, health, logger);
        await using var readOnlyHome = home.OpenReadOnly();
        var relay = new ControlRelay(shard, readOnlyHome);
        while (true)
        {
            try
            {
                await policies.SyncAsync(cancellationToken);
                await relay.CatchUpAsync(cancellationToken);
                outage.Succeeded();
                return;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && (TransientFaults.IsTransient(e) || ControlStore.NotMigratedYet(e)))
            {
                if (!await Outage.WaitAsync(outage.Failed(e), cancellationToken))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }
        }
    }
}
