using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Npgsql;
using Streaming.Bench.Cpu;
using Streaming.Bench.Latency;
using Streaming.Bench.Processes;
using Streaming.Bench.Workload;
using Streaming.EventStore;
using Streaming.Projections.History;
using Streaming.Promoter.Decisions;

namespace Streaming.Bench.Pipeline;

/// <summary>
/// Our pipeline end to end: the all-in-one process (Ingest, Projector, Promoter, embedded broker; <c>--no-fleet</c>)
/// runs as a child on a fresh database; this process produces the workload into it, paced so the broker's retention
/// never drops an unread message, and times the run until every signal is stored and both the projection and the
/// promoter have caught up, measuring the CPU every process spent meanwhile; then its tail latency, idle.
/// </summary>
public sealed class AllInOneRun(string embeddedDll, NpgsqlDataSource admin, string adminConnectionString)
{
    /// <summary>
    /// Runs the workload; <paramref name="whileRunning"/>, when given, runs after the run is measured and before the
    /// process stops, with its endpoints file and bootstrap servers.
    /// </summary>
    public async Task<PipelineResult> RunAsync(
        string name, SignalWorkload workload, int messages, CancellationToken cancellationToken, Func<string, string, CancellationToken, Task>? whileRunning = null)
    {
        var database = DatabaseName(name);
        await BenchDatabases.RecreateAsync(admin, database, cancellationToken);
        var connectionString = ConnectionString(name);
        var endpointsFile = Path.Combine(Path.GetTempPath(), $"streaming-bench-{name}-{Environment.ProcessId}.json");
        File.Delete(endpointsFile);
        var environment = new Dictionary<string, string>(ServiceRuntime.Environment)
        {
            ["ConnectionStrings__EventStore"] = connectionString,
            ["Serilog__MinimumLevel__Default"] = "Warning",
        };
        await using var child = ChildProcess.Start(embeddedDll, ["--no-fleet", "--http-port", "0", "--endpoints-file", endpointsFile], environment, cancellationToken);
        var running = child.Running;
        try
        {
            var bootstrap = await WaitForEndpointsAsync(endpointsFile, child, running);
            await using var dataSource = BenchDatabases.Probe(connectionString);
            await WaitForSchemaAsync(dataSource, running);
            await using var cpu = await CpuSampler.StartAsync(dataSource, child.Id, database, running);
            var clock = Stopwatch.StartNew();
            await new PacedProducer(bootstrap, "job-signals", t => StoredOffsetsAsync(dataSource, t)).ProduceAsync(workload, messages, running);
            var deadline = DateTime.UtcNow.AddMinutes(5);
            while (await StoredAsync(dataSource, running) < messages && DateTime.UtcNow < deadline)
            {
                await Task.Delay(10, running);
            }
            var ingested = clock.Elapsed;
            await WaitForProjectionsAsync(dataSource, messages, running);
            var current = clock.Elapsed;
            var cpuUse = await cpu.StopAsync(messages);
            var peakRss = Procfs.Tree(child.Id).Sum(p => Procfs.PeakRssBytes(p.Pid));
            var stored = await ScalarAsync(dataSource, "select count(*) from es.events where type = 'signal-recorded/v1'", running);
            var decisions = await ScalarAsync(dataSource, "select count(*) from es.events where type = 'phase-changed/v1'", running);
            var latency = await new TailLatencyProbe(bootstrap, "job-signals", dataSource,
                "select nextval(pg_get_serial_sequence('es.events', 'global_position'))",
                "select count(*) from projections.job_states where job_id = $1").MeasureAsync(name, running);
            if (whileRunning is not null)
            {
                await whileRunning(endpointsFile, bootstrap, running);
            }
            return new PipelineResult(name, workload.Jobs, messages, ingested, current, peakRss, decisions, messages - stored, cpuUse, latency);
        }
        catch (OperationCanceledException) when (child.HasExited && !cancellationToken.IsCancellationRequested)
        {
            throw child.Failure("exited during the run", null);
        }
    }

    /// <summary>The database a run of that name left behind: the store the rebuild measurement replays.</summary>
    public string ConnectionString(string name) =>
        new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = DatabaseName(name) }.ConnectionString;

    static string DatabaseName(string name) => "bench_" + name;

    static async Task<string> WaitForEndpointsAsync(string file, ChildProcess child, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!File.Exists(file))
        {
            if (child.HasExited || DateTime.UtcNow > deadline)
            {
                throw child.Failure("did not start", null);
            }
            await Task.Delay(50, cancellationToken);
        }
        await Task.Delay(100, cancellationToken);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(file, cancellationToken));
        return json.RootElement.GetProperty("kafkaBootstrapServers").GetString()!;
    }

    internal static async Task WaitForSchemaAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (await ScalarAsync(dataSource, "select count(*) from pg_tables where schemaname in ('projections', 'promoter', 'es') and tablename in ('job_states_g1', 'job_lifecycle_snapshots', 'kafka_offsets')", cancellationToken) < 3)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException("the services did not create their tables");
            }
            await Task.Delay(50, cancellationToken);
        }
    }

    internal static async Task<IReadOnlyDictionary<int, long>> StoredOffsetsAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var stored = new Dictionary<int, long>();
        await using var command = dataSource.CreateCommand("select partition, next_offset from es.kafka_offsets");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            stored[reader.GetInt32(0)] = reader.GetInt64(1);
        }
        return stored;
    }

    internal static Task<long> StoredAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        ScalarAsync(dataSource, "select coalesce(sum(next_offset), 0)::bigint from es.kafka_offsets", cancellationToken);

    internal static async Task WaitForProjectionsAsync(NpgsqlDataSource dataSource, int messages, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddMinutes(10);
        // The history archive stores whole blocks only: it is current when fewer than a block's events follow it.
        // Both probes are the tail read from the checkpoint, which stops at its count: this query runs during the
        // measurement, and must not cost the system under test.
        // A fold is current when it is in every partition it has a checkpoint in, each against its own partition's commits.
        // The folds' checkpoint names come from their code, so a renamed one breaks the build, not the measurement.
        var behind = $"""
            select (select count(*) from (select from es.checkpoints c
                     where c.name like 'projector:job-states:g%' or c.name = '{DecisionFold.CheckpointName}'
                     group by c.name
                    having bool_and(not exists (select from {UnreadEvents.After("c", 1)}))) folds)
                 + (select count(*) from (select from es.checkpoints c
                     where c.name = '{HistoryArchive.CheckpointName}'
                     group by c.name
                    having bool_and((select count(*) from {UnreadEvents.After("c", 2000)}) < 2000)) folds)
            """;
        while (await ScalarAsync(dataSource, behind, cancellationToken) < 3)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"projections did not catch up with {messages} signals within 10 minutes");
            }
            await Task.Delay(50, cancellationToken);
        }
    }

    internal static async Task<long> ScalarAsync(NpgsqlDataSource dataSource, string sql, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }
}
