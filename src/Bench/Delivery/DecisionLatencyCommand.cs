using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Confluent.Kafka;
using Npgsql;
using Spectre.Console;
using Streaming.Bench.Processes;
using Streaming.Hosting;

namespace Streaming.Bench.Delivery;

/// <summary>
/// <c>bench decision-latency</c>: how long a job waits for its promotion. Probe jobs soak in shadow and then produce
/// the signal that decides their promotion, while background jobs keep the pipeline busy at a steady rate; the time
/// from that signal's produce call to the PhaseChanged in the job's subscriber is taken on Kafka and on the bus, beside
/// a bare round trip through each broker, and split at the store's commit times to show where the time goes.
/// </summary>
static class DecisionLatencyCommand
{
    static readonly DateTimeOffset Start = new(2026, 5, 4, 0, 0, 0, TimeSpan.Zero);
    static readonly TimeSpan SoakHead = TimeSpan.FromSeconds(2);

    public static async Task<int> RunAsync(string[] args)
    {
        var settings = DecisionLatencySettings.Parse(args);
        using var cancellation = CtrlC.Cancels();
        var token = cancellation.Token;
        var database = await FreshDatabaseAsync(settings.ConnectionString, "bench_decision_latency", token);
        await using var store = NpgsqlDataSource.Create(database);

        var endpoints = Path.Combine(Path.GetTempPath(), $"streaming-decision-latency-{Environment.ProcessId}.json");
        File.Delete(endpoints);
        using var child = StartEmbedded(settings, database, endpoints);
        try
        {
            var bootstrap = await WaitForBootstrapAsync(endpoints, child, token);
            var metrics = new Uri(new Uri(ReadEndpoint(endpoints, "httpUrl")!), "/metrics");
            using var http = new HttpClient();
            AnsiConsole.MarkupLine("[grey]waiting for the relays to start[/] …");
            await WaitForAsync(store, "select count(distinct name) = 2 from es.checkpoints where name like 'promoter:phase-change-relay%'", TimeSpan.FromMinutes(2), token);

            var probes = Enumerable.Range(0, settings.Probes + 1).Select(i => new ProbeJob($"probe-{i}", Start)).ToList();
            await using var listeners = await PhaseChangeListeners.StartAsync(bootstrap, 12, settings.FetchWaitMs, settings.RabbitMq, probes.Select(p => p.JobId), token);
            await using var raw = await RawRoundTrips.StartAsync(bootstrap, settings.FetchWaitMs, settings.RabbitMq, token);
            using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
            {
                BootstrapServers = bootstrap,
                LingerMs = 0,
                EnableIdempotence = true,
                Partitioner = Partitioner.Murmur2Random,
            }).Build();

            AnsiConsole.MarkupLine("[grey]warming up with one probe[/] …");
            var warmup = probes[0];
            await RunProbeAsync(warmup, producer, token);
            await WaitForAsync(() => listeners.OnKafka.ContainsKey(warmup.JobId) && listeners.OnBus.ContainsKey(warmup.JobId), TimeSpan.FromMinutes(2), token);

            AnsiConsole.MarkupLine($"[grey]background load[/] {settings.Rate:N0} signals/s from {settings.Jobs:N0} jobs, {settings.Probes} probes over {settings.Seconds} s …");
            var load = new BackgroundLoad(bootstrap, settings.Jobs, settings.Rate, Start);
            using var stopLoad = CancellationTokenSource.CreateLinkedTokenSource(token);
            var loading = Task.Run(() => load.RunAsync(stopLoad.Token), token);
            var visibility = new CommitVisibilityProbe(store);
            var watching = Task.Run(() => visibility.RunAsync(stopLoad.Token), token);
            var storedBefore = await StoredSignalsAsync(store, token);
            var commitsBefore = await BookkeepingCommits.ScrapeAsync(http, metrics, token);
            var clock = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(5), token);

            var rawKafka = new List<TimeSpan>();
            var rawBus = new List<TimeSpan>();
            var running = new List<Task>();
            var every = TimeSpan.FromSeconds(settings.Seconds) / settings.Probes;
            foreach (var probe in probes.Skip(1))
            {
                running.Add(RunProbeAsync(probe, producer, token));
                rawKafka.Add(await Task.Run(() => raw.Kafka(token), token));
                rawBus.Add(await raw.BusAsync(token));
                await Task.Delay(every, token);
            }
            await Task.WhenAll(running);
            var measured = probes.Skip(1).ToList();
            await WaitForAsync(
                () => measured.All(p => listeners.OnKafka.ContainsKey(p.JobId) && listeners.OnBus.ContainsKey(p.JobId)),
                TimeSpan.FromMinutes(2), token, throwOnTimeout: false);
            var loadSeconds = clock.Elapsed.TotalSeconds;
            await stopLoad.CancelAsync();
            await loading;
            await watching;
            var storedDuring = await StoredSignalsAsync(store, token) - storedBefore;
            var commits = (await BookkeepingCommits.ScrapeAsync(http, metrics, token)).Since(commitsBefore);

            // What arrived by now, once: a decision arriving while the stages are read is in neither, not in one only.
            var onKafka = new Dictionary<string, DateTimeOffset>(listeners.OnKafka);
            var onBus = new Dictionary<string, DateTimeOffset>(listeners.OnBus);
            var stages = (await StagesAsync(store, measured, token)).ToDictionary(s => s.JobId);
            var report = new DecisionLatencyReport(
                settings.Rate, settings.Jobs, settings.FetchWaitMs, load.Produced / loadSeconds, storedDuring / loadSeconds,
                measured.Count,
                Percentiles.Of(Latencies(measured, onKafka)),
                Percentiles.Of(Latencies(measured, onBus)),
                Percentiles.Of(rawKafka),
                Percentiles.Of(rawBus),
                Percentiles.Of(stages.Values.Select(s => s.SignalCommitted)),
                Percentiles.Of(stages.Values.Select(s => s.DecisionCommitted)),
                Percentiles.Of(Relayed(stages, onKafka)),
                Percentiles.Of(Relayed(stages, onBus)),
                Percentiles.Of(visibility.Lags),
                Percentiles.Of(visibility.SignalLags),
                Percentiles.Of(visibility.OtherLags),
                commits);
            report.Print();
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(settings.OutputFile))!);
            await File.WriteAllTextAsync(settings.OutputFile, JsonSerializer.Serialize(report, DecisionLatencyReport.JsonOptions), token);
            AnsiConsole.MarkupLine($"JSON written to [bold]{Markup.Escape(settings.OutputFile)}[/]");
            return report.AllReceived ? 0 : 1;
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
            }
            await child.WaitForExitAsync(CancellationToken.None);
        }
    }

    // The soak goes in first; the deciding signal follows once the soak has certainly been taken in.
    static async Task RunProbeAsync(ProbeJob probe, IProducer<string, byte[]> producer, CancellationToken cancellationToken)
    {
        await Task.Run(() => probe.ProduceSoak(producer), cancellationToken);
        await Task.Delay(SoakHead, cancellationToken);
        await Task.Run(() => probe.ProduceDecidingSignal(producer), cancellationToken);
    }

    static IEnumerable<TimeSpan> Latencies(IEnumerable<ProbeJob> probes, IReadOnlyDictionary<string, DateTimeOffset> received) =>
        probes.Where(p => received.ContainsKey(p.JobId)).Select(p => received[p.JobId] - p.DecidingProducedAt!.Value);

    // Decision committed -> received, for the probes whose decision was both committed and received.
    static IEnumerable<TimeSpan> Relayed(Dictionary<string, Stage> stages, Dictionary<string, DateTimeOffset> received) =>
        stages.Values.Where(s => received.ContainsKey(s.JobId)).Select(s => received[s.JobId] - s.DecisionCommittedAt);

    sealed record Stage(string JobId, TimeSpan SignalCommitted, TimeSpan DecisionCommitted, DateTimeOffset DecisionCommittedAt);

    // Split at the appending transactions' commits (es.commits.committed_at, taken just before each commit becomes
    // visible, on this machine's clock), so each stage holds only its own work.
    static async Task<List<Stage>> StagesAsync(NpgsqlDataSource store, List<ProbeJob> probes, CancellationToken cancellationToken)
    {
        await using var command = store.CreateCommand("""
            select s.stream_id, sc.committed_at, dc.committed_at
              from es.events s
              join es.commits sc on sc.tx_id = s.tx_id and sc.partition = s.partition
              join es.events d on d.stream_id = s.stream_id and d.type = 'phase-changed/v1'
              join es.commits dc on dc.tx_id = d.tx_id and dc.partition = d.partition
             where s.stream_id = any($1) and s.seq = $2
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. probes.Select(p => p.JobId)] });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = ProbeJob.DecidingSeq });
        var produced = probes.ToDictionary(p => p.JobId, p => p.DecidingProducedAt!.Value);
        var stages = new List<Stage>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var job = reader.GetString(0);
            var stored = reader.GetFieldValue<DateTimeOffset>(1);
            var decided = reader.GetFieldValue<DateTimeOffset>(2);
            stages.Add(new Stage(job, stored - produced[job], decided - stored, decided));
        }
        return stages;
    }

    static Process StartEmbedded(DecisionLatencySettings settings, string database, string endpoints)
    {
        var start = new ProcessStartInfo("dotnet", [settings.EmbeddedDll, "--no-fleet", "--http-port", "0", "--endpoints-file", endpoints])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ConnectionStrings__EventStore"] = database;
        start.Environment["Bus__RabbitMqUrl"] = settings.RabbitMq.ToString();
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        // The bench counts the folds' bookkeeping commits on the process's /metrics, without a token.
        start.Environment["Api__AnonymousMetrics"] = "true";
        start.Environment["Kafka__Client__fetch.wait.max.ms"] = settings.FetchWaitMs.ToString(CultureInfo.InvariantCulture);
        foreach (var (variable, value) in ServiceRuntime.Environment)
        {
            start.Environment[variable] = value;
        }
        var child = Process.Start(start) ?? throw new InvalidOperationException("could not start the all-in-one process");
        child.OutputDataReceived += (_, e) => Echo(e.Data);
        child.ErrorDataReceived += (_, e) => Echo(e.Data);
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        return child;
    }

    // The child's warnings and errors belong in the bench's output: they explain a bad figure.
    static void Echo(string? line)
    {
        if (line is not null && (line.Contains("WRN", StringComparison.Ordinal) || line.Contains("ERR", StringComparison.Ordinal) || line.Contains("FTL", StringComparison.Ordinal)))
        {
            Console.Error.WriteLine("  all-in-one: " + line);
        }
    }

    static async Task<string> WaitForBootstrapAsync(string endpoints, Process child, CancellationToken cancellationToken)
    {
        await WaitForAsync(() => File.Exists(endpoints) || child.HasExited, TimeSpan.FromMinutes(1), cancellationToken);
        if (child.HasExited)
        {
            throw new InvalidOperationException($"the all-in-one process exited with code {child.ExitCode}");
        }
        await WaitForAsync(() => ReadEndpoint(endpoints, "kafkaBootstrapServers") is not null, TimeSpan.FromSeconds(10), cancellationToken);
        return ReadEndpoint(endpoints, "kafkaBootstrapServers")!;
    }

    static string? ReadEndpoint(string endpoints, string name)
    {
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllText(endpoints));
            return json.RootElement.GetProperty(name).GetString();
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException)
        {
            return null;
        }
    }

    static async Task<long> StoredSignalsAsync(NpgsqlDataSource store, CancellationToken cancellationToken)
    {
        await using var command = store.CreateCommand("select coalesce(sum(next_offset), 0)::bigint from es.kafka_offsets");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    static Task WaitForAsync(NpgsqlDataSource store, string sql, TimeSpan timeout, CancellationToken cancellationToken) =>
        WaitForAsync(async () =>
        {
            try
            {
                await using var command = store.CreateCommand(sql);
                return await command.ExecuteScalarAsync(cancellationToken) is true;
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName)
            {
                return false;
            }
        }, timeout, cancellationToken);

    static Task WaitForAsync(Func<bool> condition, TimeSpan timeout, CancellationToken cancellationToken, bool throwOnTimeout = true) =>
        WaitForAsync(() => Task.FromResult(condition()), timeout, cancellationToken, throwOnTimeout);

    static async Task WaitForAsync(Func<Task<bool>> condition, TimeSpan timeout, CancellationToken cancellationToken, bool throwOnTimeout = true)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > timeout)
            {
                if (throwOnTimeout)
                {
                    throw new TimeoutException($"gave up after {timeout}");
                }
                return;
            }
            await Task.Delay(20, cancellationToken);
        }
    }

    static async Task<string> FreshDatabaseAsync(string adminConnectionString, string name, CancellationToken cancellationToken)
    {
        await using var admin = NpgsqlDataSource.Create(adminConnectionString);
        foreach (var sql in new[] { $"drop database if exists {name} with (force)", $"create database {name}" })
        {
            await using var command = admin.CreateCommand(sql);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        return new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = name }.ConnectionString;
    }
}
