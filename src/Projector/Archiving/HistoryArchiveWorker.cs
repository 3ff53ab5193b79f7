using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Projections;
using Streaming.Projections.History;

namespace Streaming.Projector.Archiving;

/// <summary>Keeps the history archive that backtests read current with the log.</summary>
sealed class HistoryArchiveWorker(NpgsqlDataSource dataSource, LogWakeups wakeups, ILogger<HistoryArchive> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        new HistoryArchive(dataSource, logger).RunAsync(wakeups.WaitAsync, new FoldOptions().PollInterval, stoppingToken);
}
