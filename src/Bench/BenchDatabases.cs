using Npgsql;
using Streaming.Bench.Cpu;

namespace Streaming.Bench;

/// <summary>The bench's databases: each measured run gets a fresh one; the bench's own connections carry its application name.</summary>
public static class BenchDatabases
{
    public static async Task RecreateAsync(NpgsqlDataSource admin, string database, CancellationToken cancellationToken)
    {
        await using (var drop = admin.CreateCommand($"drop database if exists {database} with (force)"))
        {
            await drop.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var create = admin.CreateCommand($"create database {database}");
        await create.ExecuteNonQueryAsync(cancellationToken);
    }

    public static string On(string connectionString, string database) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Database = database }.ConnectionString;

    /// <summary>A data source for the bench's own queries, whose backends the CPU measurement counts apart.</summary>
    public static NpgsqlDataSource Probe(string connectionString) =>
        NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = CpuSampler.BenchApplicationName }.ConnectionString);
}
