using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Streaming.Projector.JobStates;

/// <summary>
/// Keeps the planner's statistics of <c>projections.job_state_rows</c> current. The jobs list reads the active
/// generation through a sub-query, so its partition is chosen at run time and the planner estimates from the
/// partitioned parent's statistics, which autovacuum never gathers (it analyzes only the partitions). Without them a
/// filter by label or flag is estimated blind and can walk a sort index to its far end. The parent is analyzed when it
/// has no statistics, when another generation became active, and when the number of jobs moved by a tenth since.
/// </summary>
public sealed partial class JobStateStatistics(NpgsqlDataSource dataSource, ILogger<JobStateStatistics> logger, TimeSpan? interval = null)
    : BackgroundService
{
    const double ChangeThatCounts = 0.1;

    readonly TimeSpan _interval = interval ?? TimeSpan.FromMinutes(1);
    (long Generation, long Jobs)? _analyzed;

    /// <summary>Analyzes the parent if its statistics are missing or stale; true when it did.</summary>
    public async Task<bool> RefreshAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var read = new NpgsqlCommand(
            """
            select g.generation,
                   (select count(*) from projections.job_state_rows r where r.generation = g.generation),
                   exists (select 1 from pg_stats where schemaname = 'projections' and tablename = 'job_state_rows')
              from projections.generations g
             where g.projection = 'job_states' and g.state = 'active'
            """, connection);
        long generation, jobs;
        bool hasStatistics;
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return false;
            }
            (generation, jobs, hasStatistics) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetBoolean(2));
        }
        if (hasStatistics && _analyzed is { } last && last.Generation == generation && Math.Abs(jobs - last.Jobs) <= last.Jobs * ChangeThatCounts)
        {
            return false;
        }
        await using (var analyze = new NpgsqlCommand("analyze projections.job_state_rows", connection))
        {
            analyze.CommandTimeout = 0;
            await analyze.ExecuteNonQueryAsync(cancellationToken);
        }
        _analyzed = (generation, jobs);
        LogAnalyzed(generation, jobs);
        return true;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval);
        do
        {
            try
            {
                await RefreshAsync(stoppingToken);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException && !stoppingToken.IsCancellationRequested)
            {
                // The database is away or not migrated yet: statistics wait for the next round, nothing else does.
                LogNotAnalyzed(e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Analyzed the job states for the planner: generation {Generation}, {Jobs} jobs")]
    partial void LogAnalyzed(long generation, long jobs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not analyze the job states for the planner; trying again later: {Reason}")]
    partial void LogNotAnalyzed(string reason);
}
