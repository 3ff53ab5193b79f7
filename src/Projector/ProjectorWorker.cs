using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Lifecycle;
using Streaming.Projections;
using Streaming.Projector.JobStates;

namespace Streaming.Projector;

/// <summary>Keeps the active generation of the job-state projection current, and follows a rebuild when it is activated.</summary>
sealed class ProjectorWorker(
    NpgsqlDataSource dataSource,
    LogWakeups wakeups,
    ILoggerFactory loggers) : BackgroundService
{
    static readonly TimeSpan GenerationCheck = TimeSpan.FromSeconds(2);

    public BufferedFold<JobStateView>? Current { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var generations = new JobStateGenerations(dataSource);
        var generation = await generations.EnsureActiveAsync(stoppingToken);
        var logger = loggers.CreateLogger<JobStateProjection>();
        while (!stoppingToken.IsCancellationRequested)
        {
            using var switching = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var projection = new JobStateProjection(dataSource, new ActivePolicies(logger), new KnownIssues(), generation);
            var fold = new BufferedFold<JobStateView>(dataSource, projection, wakeups.WaitAsync, new FoldOptions(), logger, projection.ApplySignal);
            Current = fold;
            var running = fold.RunAsync(switching.Token);
            while (!running.IsCompleted)
            {
                await Task.WhenAny(running, Task.Delay(GenerationCheck, stoppingToken));
                if (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
                if (await generations.ActiveAsync(stoppingToken) is { } active && active != generation)
                {
                    logger.LogInformation("Generation {Generation} of the job states is active now; following it", active.Number);
                    generation = active;
                    await switching.CancelAsync();
                }
            }
            await running;
        }
    }
}
