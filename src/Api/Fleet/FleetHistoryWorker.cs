using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.EventStore;

namespace Streaming.Api.Fleet;

/// <summary>Runs <see cref="FleetHistoryFold"/> on the log's tail; several API processes take turns batch by batch.</summary>
sealed class FleetHistoryWorker(NpgsqlDataSource dataSource, FleetHistoryFold fold, ILogger<FleetHistoryWorker> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var subscription = new CatchUpSubscription(dataSource, FleetHistoryFold.CheckpointName, async (events, transaction, cancellationToken) =>
        {
            try
            {
                await fold.HandleAsync(events, transaction, cancellationToken);
            }
            catch
            {
                // The batch rolls back: what the fold holds in memory is reloaded from the tables before the next one.
                fold.Reset();
                throw;
            }
        }, new SubscriptionOptions { BatchSize = 5_000, PollInterval = TimeSpan.FromMilliseconds(500) }, logger);
        return subscription.RunAsync(stoppingToken);
    }
}
