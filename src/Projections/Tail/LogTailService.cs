using Microsoft.Extensions.Hosting;
using Streaming.Projections.Ownership;

namespace Streaming.Projections.Tail;

/// <summary>
/// Runs the process's <see cref="LogTail"/> once every service of the host has started (the Promoter publishes its
/// policy folder while starting, so nothing is decided before it): over every partition of the log, or over the share its
/// group assigns it when the process's role owns partitions through Kafka (<see cref="ShareFollower"/>). A tail that fails
/// stops the host.
/// </summary>
sealed class LogTailService(LogTail tail, IHostApplicationLifetime lifetime, ShareFollower? share = null) : BackgroundService
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
        await tail.RunAsync(stoppingToken);
    }
}
