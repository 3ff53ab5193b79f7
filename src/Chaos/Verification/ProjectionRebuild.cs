using System.Diagnostics;
using Npgsql;
using Streaming.EventStore;

namespace Streaming.Chaos.Verification;

/// <summary>
/// Rebuilds a run's job states from its log with the <c>rebuild</c> command (a fresh generation) and compares them row
/// for row with the ones the live Projector kept through the run's faults: a fold killed and restarted must end where
/// an uninterrupted fold of the same log ends. With several shards each shard is rebuilt from its own log (its partitions'
/// and the control streams' copy) and compared with what its Projectors kept.
/// </summary>
public static class ProjectionRebuild
{
    public static async Task<long> DifferencesAsync(
        string repositoryRoot, IReadOnlyList<string> connectionStrings, StoreShards shards, List<string> examples, CancellationToken cancellationToken)
    {
        long differences = 0;
        for (var shard = 0; shard < shards.Count; shard++)
        {
            differences += await DifferencesAsync(repositoryRoot, connectionStrings[shard], shards.DataSource(shard), examples, cancellationToken);
        }
        return differences;
    }

    static async Task<long> DifferencesAsync(
        string repositoryRoot, string connectionString, NpgsqlDataSource store, List<string> examples, CancellationToken cancellationToken)
    {
        var live = await ActiveGenerationAsync(store, cancellationToken);
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(repositoryRoot, "src", "Cli", "bin", "Release", "net10.0", "linux-x64", "streaming.dll"));
        start.ArgumentList.Add("rebuild");
        start.ArgumentList.Add("--fresh");
        start.Environment["ConnectionStrings__EventStore"] = connectionString;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the rebuild");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"rebuild --fresh exited with code {process.ExitCode}: {await errors}{await output}");
        }
        var rebuilt = await ActiveGenerationAsync(store, cancellationToken);
        return RunComparison.Differences(
            await RowsAsync(store, live, cancellationToken), await RowsAsync(store, rebuilt, cancellationToken), "rebuilt job state", examples);
    }

    static async Task<int> ActiveGenerationAsync(NpgsqlDataSource store, CancellationToken cancellationToken)
    {
        await using var command = store.CreateCommand("select generation from projections.generations where projection = 'job_states' and state = 'active'");
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    static async Task<Dictionary<string, string>> RowsAsync(NpgsqlDataSource store, int generation, CancellationToken cancellationToken)
    {
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var command = store.CreateCommand($"select job_id, (to_jsonb(j) - 'updated_at' - 'generation')::text from projections.job_states_g{generation} j");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows[reader.GetString(0)] = reader.GetString(1);
        }
        return rows;
    }
}
