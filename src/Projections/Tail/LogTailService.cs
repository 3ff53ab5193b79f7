using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.EventStore;
using Streaming.Hosting.Resilience;
using Streaming.Projections.Ownership;

namespace Streaming.Projections.Tail;

/// <summary>
/// Runs the process's <see cref="LogTail"/> once every service of the host has started (the Promoter publishes its
/// policy folder while starting, so nothing is decided before it): over every partition of the log, or over the share its
/// group assigns it when the process's role owns partitions through Kafka (<see cref="ShareFollower"/>). In a sharded
/// store without a group, over the partitions of the shard it serves and the control partition. An outage of the store
/// as it starts is waited out; a tail that fails stops the host.
/// </summary>
sealed partial class LogTailService(
    LogTail tail, IHostApplicationLifetime lifetime, LoopHealth health, ILogger<LogTailService> logger, ShareFollower? share = null,
    ServedShard? served = null, NpgsqlDataSource? dataSource = null) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            await started.Task.WaitAsync(stoppingToken);
        }
        if (share is not null && tail.HasFolds)
        {
            await share.RunAsync(stoppingToken);
            return;
        }
        if (served is { IsSharded: true } && dataSource is not null && tail.HasFolds)
        {
            // Its shard's PostgreSQL may be away as the process starts (or goes away just then): waited out, as the tail's
            // loops wait out an outage, instead of stopping the process.
            var partitioner = await new Outage(LogTail.LoopName, health, logger)
                .WaitOutAsync(token => EventStoreSchema.ReadPartitioningAsync(dataSource, token), stoppingToken);
            var followed = FollowedPartitions.Share(served.Followed(Enumerable.Range(0, partitioner.Partitions), partitioner.Partitions), partitioner);
            LogFollowing(logger, served.ToString(), followed.ToString());
            await tail.RunAsync(followed, stoppingToken);
            return;
        }
        await tail.RunAsync(stoppingToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving {Shard}: the tail follows partitions {Partitions}")]
    static partial void LogFollowing(ILogger logger, string shard, string partitions);
}
