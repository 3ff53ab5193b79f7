using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Projections.Tail;

namespace Streaming.Projections.History;

public static class HistoryArchiveExtensions
{
    /// <summary>Keeps the history archive current with the log, as a fold of the process's tail.</summary>
    public static IServiceCollection AddHistoryArchive(this IServiceCollection services) =>
        services.AddLogFold(sp => new HistoryArchive(sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<ILogger<HistoryArchive>>()));
}
