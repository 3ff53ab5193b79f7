using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streaming.Api.Notifications;
using Streaming.EventStore;
using Streaming.Hosting.Resilience;
using Streaming.LifecycleEvents;
using Streaming.Projections.Tail;

namespace Streaming.Api.Fleet;

/// <summary>
/// The fleet history of shards 1 and up: a <see cref="FleetHistoryFold"/> on each, over that shard's log, on a tail of
/// its own (shard 0's runs on the process's tail), started with the host's; a tail that fails stops the host. With
/// notifications on, the same tail tells that shard's quarantines (<see cref="NotificationFold.HandleShardAsync"/>). Each keeps
/// its loops' health apart (their names are those of shard 0's tail): a shard's outage shows in readiness as that shard
/// not answering and its fold's lag.
/// </summary>
sealed class ShardHistoryTails(
    StoreShards shards, IOptions<TailOptions> options, ILoggerFactory loggers, IHostApplicationLifetime lifetime, NotificationFold? notifications = null) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (shards.Count == 1)
        {
            return;
        }
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            await started.Task.WaitAsync(stoppingToken);
        }
        var tails = shards.All.Skip(1).Select(dataSource =>
        {
            var fold = new FleetHistoryFold(dataSource, new ActivePolicies(loggers.CreateLogger<FleetHistoryFold>()));
            List<ILogFold> folds = [new TransactionalFold(dataSource, FleetHistoryFold.CheckpointName, fold.HandleAsync)];
            if (notifications is not null)
            {
                folds.Add(new TransactionalFold(dataSource, NotificationFold.CheckpointName, notifications.HandleShardAsync));
            }
            return new LogTail(dataSource, folds, options.Value, new LoopHealth(), loggers);
        });
        await Task.WhenAll(tails.Select(tail => Task.Run(() => tail.RunAsync(stoppingToken), CancellationToken.None)));
    }
}
