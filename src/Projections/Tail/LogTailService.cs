using Microsoft.Extensions.Hosting;

namespace Streaming.Projections.Tail;

/// <summary>
/// Runs the process's <see cref="LogTail"/> once every service of the host has started (the Promoter publishes its
/// policy folder while starting, so nothing is decided before it). A tail that fails stops the host.
/// </summary>
sealed class LogTailService(LogTail tail, IHostApplicationLifetime lifetime) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            await started.Task.WaitAsync(stoppingToken);
        }
        await tail.RunAsync(stoppingToken);
    }
}
