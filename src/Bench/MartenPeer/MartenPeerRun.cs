using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Streaming.Embedded.Broker;
using Streaming.Bench.Cpu;
using Streaming.Bench.Latency;
using Streaming.Bench.Processes;
using Streaming.Bench.Workload;
using Streaming.Hosting.Kafka;

namespace Streaming.Bench.MartenPeer;

/// <summary>
/// Marten as a measured peer, on the same signals as our pipeline and from the same kind of broker: the peer process
/// (<c>src/Bench.Marten</c>, two writers, Marten's async daemon alongside) runs as a child on a fresh database; this
/// process hosts the embedded broker, produces the workload into it paced like ours, and times the run until every
/// signal is appended and the projection has caught up. The rebuild has the daemon rebuild the projection.
/// </summary>
public sealed class MartenPeerRun(string peerDll, NpgsqlDataSource admin, string adminConnectionString)
{
    const string Schema = "peer";
    const string Topic = "job-signals";

    /// <summary>Appends <paramref name="messages"/> signals with the daemon keeping <paramref name="projection"/> (none, sql or aggregate).</summary>
    public async Task<MartenResult> AppendAsync(string name, string projection, SignalWorkload workload, int messages, CancellationToken cancellationToken)
    {
        var database = DatabaseName(name);
        await BenchDatabases.RecreateAsync(admin, database, cancellationToken);
        var connectionString = BenchDatabases.On(adminConnectionString, database);
        using var broker = EmbeddedKafkaCluster.Start();
        broker.CreateTopic(Topic, 12);
        await using var child = ChildProcess.Start(peerDll,
            ["append", "--postgres", connectionString, "--bootstrap", broker.BootstrapServers, "--topic", Topic, "--projection", projection],
            new Dictionary<string, string>(), cancellationToken);
        var running = child.Running;
        try
        {
            await child.WaitForLineAsync("ready", TimeSpan.FromMinutes(2));
            await using var dataSource = BenchDatabases.Probe(connectionString);
            await using var cpu = await CpuSampler.StartAsync(dataSource, child.Id, database, running);
            var clock = Stopwatch.StartNew();
            await new PacedProducer(broker.BootstrapServers, Topic, t => StoredOffsetsAsync(dataSource, t)).ProduceAsync(workload, messages, running);
            var deadline = DateTime.UtcNow.AddMinutes(5);
            while ((await StoredOffsetsAsync(dataSource, running)).Values.Sum() < messages && DateTime.UtcNow < deadline)
            {
                await Task.Delay(10, running);
            }
            var appended = clock.Elapsed;
            if (projection != "none")
            {
                await WaitForProjectionAsync(dataSource, projection, child, running);
            }
            var current = clock.Elapsed;
            var cpuUse = await cpu.StopAsync(messages);
            var peakRss = Procfs.Tree(child.Id).Sum(p => Procfs.PeakRssBytes(p.Pid));
            var stored = await ScalarAsync(dataSource, $"select count(*) from {Schema}.mt_events", running);
            var problem = await CheckProjectionAsync(dataSource, projection, running);
            var latency = projection == "none" ? null : await new TailLatencyProbe(broker.BootstrapServers, Topic, dataSource,
                $"select nextval('{Schema}.mt_events_sequence')",
                projection == "sql" ? $"select count(*) from {Schema}.job_states where job_id = $1" : $"select count(*) from {Schema}.mt_doc_jobstateview where id = $1")
                .MeasureAsync(name, running);
            return new MartenResult(name, projection, workload.Jobs, messages, appended, current, peakRss, messages - stored, cpuUse, latency, problem);
        }
        catch (OperationCanceledException) when (child.HasExited && !cancellationToken.IsCancellationRequested)
        {
            throw child.Failure("exited during the run", null);
        }
    }

    /// <summary>Has Marten's daemon rebuild <paramref name="projection"/> over the store an earlier run of <paramref name="name"/> left.</summary>
    public async Task<Measurement> RebuildAsync(string name, string projection, string title, CancellationToken cancellationToken)
    {
        var connectionString = BenchDatabases.On(adminConnectionString, DatabaseName(name));
        await using var child = ChildProcess.Start(peerDll, ["rebuild", "--postgres", connectionString, "--projection", projection],
            new Dictionary<string, string>(), cancellationToken);
        await child.WaitForExitAsync(TimeSpan.FromMinutes(30), cancellationToken);
        var line = child.Output().Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith("rebuilt ", StringComparison.Ordinal))
            ?? throw child.Failure("did not report its rebuild", null);
        var parts = line.Split(' ');
        var events = long.Parse(parts[1], CultureInfo.InvariantCulture);
        await using var dataSource = BenchDatabases.Probe(connectionString);
        if (await CheckProjectionAsync(dataSource, projection, cancellationToken) is { } problem)
        {
            throw new InvalidOperationException($"Marten's rebuild of {projection} is wrong: {problem}");
        }
        return new Measurement(title, events, TimeSpan.FromSeconds(double.Parse(parts[2], CultureInfo.InvariantCulture)));
    }

    static string DatabaseName(string name) => "bench_marten_" + name;

    static async Task<IReadOnlyDictionary<int, long>> StoredOffsetsAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var stored = new Dictionary<int, long>();
        await using var command = dataSource.CreateCommand(
            $"select id, coalesce(data->>'nextOffset', data->>'NextOffset')::bigint from {Schema}.mt_doc_kafkaoffsets");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetString(0);
            stored[int.Parse(id[(id.LastIndexOf('/') + 1)..], CultureInfo.InvariantCulture)] = reader.GetInt64(1);
        }
        return stored;
    }

    // The daemon's progress row for the projection has reached the last event appended. A daemon that makes no
    // progress for a minute has failed (it logs the error and retries): the run ends with the peer's output.
    static async Task WaitForProjectionAsync(NpgsqlDataSource dataSource, string projection, ChildProcess child, CancellationToken cancellationToken)
    {
        var behind = $"""
            select (select coalesce(max(seq_id), 0) from {Schema}.mt_events)
                 - (select coalesce(max(last_seq_id), 0) from {Schema}.mt_event_progression where name like '{ProjectionName(projection)}:%')
            """;
        var (least, progressed) = (long.MaxValue, DateTime.UtcNow);
        while (await ScalarAsync(dataSource, behind, cancellationToken) is var now && now > 0)
        {
            if (now < least)
            {
                (least, progressed) = (now, DateTime.UtcNow);
            }
            else if (DateTime.UtcNow - progressed > TimeSpan.FromMinutes(1))
            {
                throw child.Failure($"made no progress with its {projection} projection for a minute ({now} events behind)", null);
            }
            await Task.Delay(50, cancellationToken);
        }
    }

    // Every stream has its row or document, and together they folded every event once.
    static async Task<string?> CheckProjectionAsync(NpgsqlDataSource dataSource, string projection, CancellationToken cancellationToken)
    {
        var (rows, folded) = projection switch
        {
            "sql" => ($"select count(*) from {Schema}.job_states", $"select coalesce(sum(signals), 0) from {Schema}.job_states"),
            "aggregate" => ($"select count(*) from {Schema}.mt_doc_jobstateview",
                $"select coalesce(sum(coalesce(data->>'signals', data->>'Signals')::bigint), 0) from {Schema}.mt_doc_jobstateview"),
            _ => (null, null),
        };
        if (rows is null || folded is null)
        {
            return null;
        }
        var (jobs, events) = (await ScalarAsync(dataSource, $"select count(*) from {Schema}.mt_streams", cancellationToken),
            await ScalarAsync(dataSource, $"select count(*) from {Schema}.mt_events", cancellationToken));
        var (projectedJobs, foldedEvents) = (await ScalarAsync(dataSource, rows, cancellationToken), await ScalarAsync(dataSource, folded, cancellationToken));
        return projectedJobs == jobs && foldedEvents == events ? null : $"{projectedJobs} jobs folding {foldedEvents} signals, expected {jobs} folding {events}";
    }

    static string ProjectionName(string projection) => projection == "sql" ? "JobStateSql" : "JobStateView";

    static async Task<long> ScalarAsync(NpgsqlDataSource dataSource, string sql, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }
}
