using Microsoft.Extensions.Hosting;
using Npgsql;
using Streaming.Projections;
using Streaming.Projector.JobStates;

namespace Streaming.Projector;

/// <summary>Keeps the job-state projection current.</summary>
sealed class ProjectorWorker(NpgsqlDataSource dataSource, BufferedFold<JobStateView> fold) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await JobStateTable.EnsureAsync(dataSource, stoppingToken);
        await fold.RunAsync(stoppingToken);
    }
}
