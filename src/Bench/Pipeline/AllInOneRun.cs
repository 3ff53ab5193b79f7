using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Confluent.Kafka;
using Npgsql;
using Streaming.Bench.Workload;

namespace Streaming.Bench.Pipeline;

/// <summary>
/// Our pipeline end to end: the all-in-one process (Ingest, Projector, Promoter, embedded broker) runs as a child on a
/// fresh database; this process produces the workload into it, paced so the broker's retention never drops an unread
/// message, and times the run until every signal is stored and both the projection and the promoter have caught up.
/// </summary>
public sealed class AllInOneRun(string embeddedDll, NpgsqlDataSource admin, string adminConnectionString)
{
    // The broker keeps 5 MB a partition: about 18,000 signals of the workload's size.
    const long MaxUnstoredPerPartition = 10_000;

    /// <summary>
    /// Runs the workload; <paramref name="whileRunning"/>, when given, runs after the run is measured and before the
    /// process stops, with its endpoints file and bootstrap servers.
    /// </summary>
    public async Task<PipelineResult> RunAsync(
        string name, SignalWorkload workload, int messages, CancellationToken cancellationToken, Func<string, string, CancellationToken, Task>? whileRunning = null)
    {
        var database = DatabaseName(name);
        await using (var drop = admin.CreateCommand($"drop database if exists {database} with (force)"))
        {
            await drop.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var create = admin.CreateCommand($"create database {database}"))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        var connectionString = ConnectionString(name);
        var endpointsFile = Path.Combine(Path.GetTempPath(), $"streaming-bench-{name}-{Environment.ProcessId}.json");
        File.Delete(endpointsFile);
        var start = new ProcessStartInfo("dotnet", [embeddedDll, "--no-fleet", "--http-port", "0", "--endpoints-file", endpointsFile])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ConnectionStrings__EventStore"] = connectionString;
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        using var child = Process.Start(start)!;
        var log = new StringWriter();
        child.OutputDataReceived += (_, e) => { lock (log) { log.WriteLine(e.Data); } };
        child.ErrorDataReceived += (_, e) => { lock (log) { log.WriteLine(e.Data); } };
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        // A child that dies mid-run ends the run at once, with its log, instead of leaving this process waiting.
        using var childExited = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        EventHandler onExit = (_, _) => childExited.Cancel();
        child.EnableRaisingEvents = true;
        child.Exited += onExit;
        var running = childExited.Token;
        try
        {
            var bootstrap = await WaitForEndpointsAsync(endpointsFile, child, log, running);
            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            await WaitForSchemaAsync(dataSource, running);
            var clock = Stopwatch.StartNew();
            var lost = await ProduceAsync(bootstrap, dataSource, workload, messages, running);
            var ingested = clock.Elapsed;
            await WaitForProjectionsAsync(dataSource, messages, running);
            var current = clock.Elapsed;
            var peakRss = PeakRssBytes(child.Id);
            var decisions = await ScalarAsync(dataSource, "select count(*) from es.events where type = 'phase-changed/v1'", running);
            if (whileRunning is not null)
            {
                await whileRunning(endpointsFile, bootstrap, running);
            }
            return new PipelineResult(name, workload.Jobs, messages, ingested, current, peakRss, decisions, lost);
        }
        catch (OperationCanceledException) when (child.HasExited && !cancellationToken.IsCancellationRequested)
        {
            string output;
            lock (log)
            {
                output = log.ToString();
            }
            throw new InvalidOperationException($"the all-in-one process exited with code {child.ExitCode} during the run:\n{output}");
        }
        finally
        {
            child.Exited -= onExit;
            child.Kill(entireProcessTree: true);
            await child.WaitForExitAsync(CancellationToken.None);
        }
    }

    /// <summary>The database a run of that name left behind: the store the rebuild measurement replays.</summary>
    public string ConnectionString(string name) =>
        new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = DatabaseName(name) }.ConnectionString;

    static string DatabaseName(string name) => "bench_" + name;

    static async Task<string> WaitForEndpointsAsync(string file, Process child, StringWriter log, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!File.Exists(file))
        {
            if (child.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException("the all-in-one process did not start:\n" + log);
            }
            await Task.Delay(50, cancellationToken);
        }
        await Task.Delay(100, cancellationToken);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(file, cancellationToken));
        return json.RootElement.GetProperty("kafkaBootstrapServers").GetString()!;
    }

    static async Task WaitForSchemaAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (await ScalarAsync(dataSource, "select count(*) from pg_tables where schemaname in ('projections', 'promoter', 'es') and tablename in ('job_states_g1', 'job_lifecycle_snapshots', 'kafka_offsets')", cancellationToken) < 3)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException("the all-in-one process did not create its tables");
            }
            await Task.Delay(50, cancellationToken);
        }
    }

    // Produces as fast as the pipeline stores, never more than MaxUnstoredPerPartition ahead of it on any partition:
    // consumers can fall behind unevenly, so a bound on the total would still let one partition outrun retention.
    static async Task<long> ProduceAsync(string bootstrap, NpgsqlDataSource dataSource, SignalWorkload workload, int messages, CancellationToken cancellationToken)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            LingerMs = 10,
            EnableIdempotence = true,
            Partitioner = Partitioner.Murmur2Random,
        }).Build();
        var delivered = new long[64];
        long stored = 0;
        for (var n = 0; n < messages; n++)
        {
            if (n % 2_000 == 0)
            {
                while (await AheadAsync(dataSource, delivered, n, cancellationToken) > MaxUnstoredPerPartition)
                {
                    await Task.Delay(20, cancellationToken);
                }
            }
            var (key, value) = workload.Message(n);
            while (true)
            {
                try
                {
                    producer.Produce("job-signals", new Message<string, byte[]> { Key = key, Value = value },
                        report => Interlocked.Increment(ref delivered[report.Partition.Value]));
                    break;
                }
                catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    producer.Poll(TimeSpan.FromMilliseconds(10));
                }
            }
        }
        producer.Flush(TimeSpan.FromMinutes(1));
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while ((stored = await StoredAsync(dataSource, cancellationToken)) < messages && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10, cancellationToken);
        }
        var events = await ScalarAsync(dataSource, "select count(*) from es.events where type = 'signal-recorded/v1'", cancellationToken);
        return messages - events;
    }

    // The most any partition's delivered messages are ahead of what Ingest stored, counting every message still in flight.
    static async Task<long> AheadAsync(NpgsqlDataSource dataSource, long[] delivered, long produced, CancellationToken cancellationToken)
    {
        var stored = new long[delivered.Length];
        await using (var command = dataSource.CreateCommand("select partition, next_offset from es.kafka_offsets"))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                stored[reader.GetInt32(0)] = reader.GetInt64(1);
            }
        }
        long ahead = 0, inFlight = produced;
        for (var partition = 0; partition < delivered.Length; partition++)
        {
            var sent = Interlocked.Read(ref delivered[partition]);
            inFlight -= sent;
            ahead = Math.Max(ahead, sent - stored[partition]);
        }
        return ahead + inFlight;
    }

    static Task<long> StoredAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        ScalarAsync(dataSource, "select coalesce(sum(next_offset), 0)::bigint from es.kafka_offsets", cancellationToken);

    static async Task WaitForProjectionsAsync(NpgsqlDataSource dataSource, int messages, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddMinutes(10);
        // The history archive stores whole blocks only: it is current when fewer than a block's events follow it.
        // Both probes walk the tail index from the checkpoint (the order by keeps the planner from scanning the table
        // for the events at its end): this query runs during the measurement, and must not cost the system under test.
        const string behind = """
            select (select count(*) from es.checkpoints c
                     where (c.name like 'projector:job-states:g%' or c.name = 'promoter:decisions')
                       and not exists (select 1 from es.events e where (e.tx_id, e.global_position) > (c.tx_id, c.position)))
                 + (select count(*) from es.checkpoints c
                     where c.name = 'history-archive'
                       and (select count(*) from (select from es.events e
                                                   where (e.tx_id, e.global_position) > (c.tx_id, c.position)
                                                   order by e.tx_id, e.global_position limit 2000) a) < 2000)
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

    static async Task<long> ScalarAsync(NpgsqlDataSource dataSource, string sql, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    static long PeakRssBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
        }
        return 0;
    }
}
