using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Streaming.Lifecycle;
using Streaming.Projector.Rebuilding;

namespace Streaming.Bench.Pipeline;

/// <summary>
/// The projection rebuild rate: replays a pipeline run's whole store into a fresh generation of the job states with the
/// same code the <c>rebuild</c> command runs, after the all-in-one process has stopped: as the command does by default
/// (the history archive, then the rest of the log), or from the log alone.
/// </summary>
public static class RebuildRun
{
    public static async Task<Measurement> RunAsync(string name, string connectionString, bool useArchive, CancellationToken cancellationToken)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var rebuild = new JobStateRebuild(dataSource, NullLogger.Instance, useArchive: useArchive);
        var result = await rebuild.RunAsync(fresh: true, report: null, cancellationToken);
        return new Measurement(name, result.Events, result.Elapsed);
    }
}
