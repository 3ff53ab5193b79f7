using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.EventStore;
using Streaming.Projections.Ownership;

namespace Streaming.Projections.Tail;

/// <summary>
/// Runs the process's <see cref="LogTail"/> once every service of the host has started (the Promoter publishes its
/// policy folder while starting, so nothing is decided before it): over every partition of the log, or over the share its
/// group assigns it when the process's role owns partitions through Kafka (<see cref="ShareFollower"/>). In a sharded
/// store without a group, over the partitions of the shard it serves and the control partition. A tail that fails
/// stops the host.
/// </summary>
sealed partial class LogTailService(
    LogTail tail, IHostApplicationLifetime lifetime, ILogger<LogTailService> logger, ShareFollower? share = null, ServedShard? served = null,
    NpgsqlDataSource? dataSource = null) : BackgroundService
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
            var partitioner = await EventStoreSchema.ReadPartitioningAsync(dataSource, stoppingToken);
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
