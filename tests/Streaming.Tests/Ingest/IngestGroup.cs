using System.Text.Json;
using Confluent.Kafka;
using Streaming.Contracts;
using Streaming.Embedded.Broker;
using Streaming.Ingest.Appending;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Ingest;

/// <summary>
/// Ingest processes (the built host, each a child process with a static membership of its own) sharing one consumer
/// group over a Kafka-protocol cluster and a database this test owns, fed by a producer that signals every job of every
/// partition every 50 ms. What each process logs (compact JSON) tells which partitions it was given, gave up and stored.
/// </summary>
sealed class IngestGroup : IAsyncDisposable
{
    public const int Partitions = 12;
    /// <summary>Short, so a takeover fits the issue's 15 s: the mock coordinator notices a dead member after it, then waits a session less 1 s for the rest to rejoin.</summary>
    public const int ShortSessionSeconds = 5;

    /// <summary>SIGSTOP and SIGCONT on Linux.</summary>
    public const int Pause = 19, Resume = 18;
    const int JobsPerPartition = 2;
    static readonly TimeSpan Round = TimeSpan.FromMilliseconds(50);

    readonly EmbeddedKafkaCluster _kafka = EmbeddedKafkaCluster.Start();
    readonly Dictionary<string, RunningProcess> _instances = [];
    readonly CancellationTokenSource _stopProducing = new();
    readonly string _prefix;
    Task<int>? _producing;

    IngestGroup(MigratedDatabase database, string prefix, int sessionTimeoutSeconds)
    {
        Database = database;
        _prefix = prefix;
        SessionTimeoutSeconds = sessionTimeoutSeconds;
        _kafka.CreateTopic(Topics.Signals, Partitions);
        _kafka.CreateTopic(Topics.SignalsDeadLetter, 1);
    }

    public MigratedDatabase Database { get; }

    /// <summary>The members' session timeout, in seconds.</summary>
    public int SessionTimeoutSeconds { get; }

    public IReadOnlyList<int> AllPartitions { get; } = [.. Enumerable.Range(0, Partitions)];

    public static async Task<IngestGroup> StartAsync(string prefix, int sessionTimeoutSeconds = ShortSessionSeconds) =>
        new(await IngestProbe.MigratedAsync(), prefix, sessionTimeoutSeconds);

    /// <summary>Starts an Ingest process whose static membership is <paramref name="instance"/>.</summary>
    public RunningProcess Start(string instance)
    {
        var dll = RunningProcess.HostDll("Ingest");
        var process = RunningProcess.Start("dotnet", [dll], new Dictionary<string, string>
        {
            ["ConnectionStrings__EventStore"] = Database.ConnectionString,
            ["Kafka__BootstrapServers"] = _kafka.BootstrapServers,
            ["Kafka__CreateTopics"] = "false",
            ["Kafka__ConsumerSessionTimeout"] = $"00:00:{SessionTimeoutSeconds:00}",
            ["Ingest__Consumers"] = "1",
            ["Ingest__InstanceId"] = instance,
            ["Logging__Format"] = "json",
            // Debug for the batches stored; not for the clients' own chatter
            ["Serilog__MinimumLevel__Default"] = "Debug",
            ["Serilog__MinimumLevel__Override__Npgsql"] = "Warning",
            ["Serilog__MinimumLevel__Override__System"] = "Warning",
        }, Path.GetDirectoryName(dll));
        _instances[instance] = process;
        return process;
    }

    /// <summary>Produces one signal per job a round, every 50 ms, until <see cref="StopProducingAsync"/>.</summary>
    public void StartProducing() => _producing = Task.Run(() => Produce(_stopProducing.Token));

    /// <summary>Stops the producer; returns how many rounds it produced (each job's last seq).</summary>
    public async Task<int> StopProducingAsync()
    {
        await _stopProducing.CancelAsync();
        return await _producing!;
    }

    /// <summary>The partitions <paramref name="instance"/> holds now by what it logged: assigned, less revoked or lost.</summary>
    public static HashSet<int> Owned(RunningProcess instance, DateTimeOffset? until = null)
    {
        var owned = new HashSet<int>();
        foreach (var line in Lines(instance).Where(l => until is null || l.At <= until))
        {
            if (line.Message.StartsWith("Assigned partitions", StringComparison.Ordinal))
            {
                owned.UnionWith(line.Partitions);
            }
            else if (line.Message.StartsWith("Revoked partitions", StringComparison.Ordinal) || line.Message.StartsWith("Lost partitions", StringComparison.Ordinal))
            {
                owned.ExceptWith(line.Partitions);
            }
        }
        return owned;
    }

    /// <summary>
    /// Where <paramref name="instance"/>'s first stored batch of each of <paramref name="partitions"/> since
    /// <paramref name="since"/> started, and when it was logged, by what it logged.
    /// </summary>
    public static async Task<Dictionary<int, (DateTimeOffset At, long From)>> FirstStoredAsync(
        RunningProcess instance, IReadOnlyCollection<int> partitions, DateTimeOffset since, TimeSpan timeout, string what)
    {
        var first = new Dictionary<int, (DateTimeOffset At, long From)>();
        await Eventually.True(() =>
        {
            first.Clear();
            foreach (var line in Lines(instance).Where(l => l.At >= since && l.IsStored))
            {
                foreach (var (partition, range) in line.Offsets.Where(o => partitions.Contains(o.Key)))
                {
                    first.TryAdd(partition, (line.At, range.From));
                }
            }
            return Task.FromResult(first.Count == partitions.Count);
        }, timeout, what);
        return first;
    }

    /// <summary>Each stored batch whose offsets of a partition overlap another's, by what the instances logged: a store twice.</summary>
    public static List<string> OverlappingStores(IEnumerable<IngestLogLine> lines) =>
    [
        .. lines.Where(l => l.IsStored)
            .SelectMany(l => l.Offsets.Select(o => (Partition: o.Key, o.Value.From, o.Value.To)))
            .GroupBy(r => r.Partition)
            .SelectMany(g => g.OrderBy(r => r.From).Zip(g.OrderBy(r => r.From).Skip(1))
                .Where(pair => pair.Second.From < pair.First.To)
                .Select(pair => $"partition {g.Key}: {pair.First.From}-{pair.First.To} and {pair.Second.From}-{pair.Second.To}")),
    ];

    /// <summary>What <paramref name="instance"/> logged, line by line (its compact-JSON lines only).</summary>
    public static List<IngestLogLine> Lines(RunningProcess instance) =>
        [.. instance.Output.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith('{')).Select(IngestLogLine.Parse).OfType<IngestLogLine>()];

    /// <summary>Waits until the running instances between them hold every partition, each of them some.</summary>
    public async Task AllPartitionsHeldAsync(params RunningProcess[] instances) =>
        await Eventually.True(() => Task.FromResult(
                instances.All(i => Owned(i).Count > 0) && instances.SelectMany(i => Owned(i)).Order().SequenceEqual(AllPartitions)),
            TimeSpan.FromSeconds(60), $"{instances.Length} instances to share the {Partitions} partitions");

    /// <summary>The next offset stored for each partition.</summary>
    public async Task<IReadOnlyDictionary<int, long>> StoredOffsetsAsync() =>
        await new SignalLog(Database.DataSource).LoadKafkaOffsetsAsync("streaming-ingest", Topics.Signals, CancellationToken.None);

    /// <summary>Waits until every one of <paramref name="partitions"/> has stored past where it was in <paramref name="since"/>.</summary>
    public Task StoredPastAsync(IEnumerable<int> partitions, IReadOnlyDictionary<int, long> since, TimeSpan timeout, string what) =>
        Eventually.True(async () =>
        {
            var now = await StoredOffsetsAsync();
            return partitions.All(p => now.GetValueOrDefault(p) > since.GetValueOrDefault(p));
        }, timeout, what);

    /// <summary>
    /// Waits until each of <paramref name="partitions"/> has a commit holding its events in a transaction that began after
    /// <paramref name="since"/>; returns when each was first committed. With every other writer dead since then, those
    /// commits are the survivors' own: a killed writer's last commit, however late it landed, began before.
    /// </summary>
    public async Task<Dictionary<int, DateTimeOffset>> FirstCommittedSinceAsync(IReadOnlyCollection<int> partitions, DateTimeOffset since, TimeSpan timeout, string what)
    {
        var first = new Dictionary<int, DateTimeOffset>();
        await Eventually.True(async () =>
        {
            await using var command = Database.DataSource.CreateCommand(
                """
                select split_part(substr(e.stream_id, length($1) + 1), '-', 1)::int, min(c.committed_at)
                from es.events e join es.commits c on c.tx_id = e.tx_id and c.partition = e.partition
                where starts_with(e.stream_id, $1) and e.recorded_at > $2 and split_part(substr(e.stream_id, length($1) + 1), '-', 1)::int = any($3)
                group by 1
                """);
            command.Parameters.AddWithValue(_prefix + "-");
            command.Parameters.AddWithValue(since.UtcDateTime);
            command.Parameters.AddWithValue(partitions.ToArray());
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                first[reader.GetInt32(0)] = reader.GetFieldValue<DateTimeOffset>(1);
            }
            return first.Count == partitions.Count;
        }, timeout, what);
        return first;
    }

    /// <summary>Waits until each job's signals up to <paramref name="rounds"/> are stored; returns (events stored, distinct (job, seq)).</summary>
    public async Task<(long Events, long Distinct)> AllStoredAsync(int rounds)
    {
        var expected = (long)rounds * Partitions * JobsPerPartition;
        try
        {
            await Eventually.Get(() => CountAsync("count(*)"), n => n >= expected, TimeSpan.FromSeconds(60), $"all {expected} signals stored");
        }
        catch (TimeoutException e)
        {
            var stored = await StoredOffsetsAsync();
            throw new TimeoutException(
                $"{e.Message}; stored offsets {string.Join(", ", stored.OrderBy(o => o.Key).Select(o => $"{o.Key}@{o.Value}"))} of {rounds * JobsPerPartition} a partition; " +
                $"signals never stored (job:seqs): {await MissingAsync()}", e);
        }
        return (await CountAsync("count(*)"), await CountAsync("count(distinct (stream_id, seq))"));
    }

    /// <summary>Per partition, the longest wait between two stored batches (by the events' recorded times) within [from, to].</summary>
    public async Task<Dictionary<int, TimeSpan>> LongestGapsAsync(DateTimeOffset from, DateTimeOffset to)
    {
        await using var command = Database.DataSource.CreateCommand(
            """
            select partition, coalesce(max(gap), interval '0') from (
                select partition, recorded_at - lag(recorded_at) over (partition by partition order by recorded_at) as gap
                from (select distinct split_part(substr(stream_id, length($1) + 1), '-', 1)::int as partition, recorded_at
                      from es.events where starts_with(stream_id, $1) and recorded_at between $2 and $3) batches
            ) gaps group by partition
            """);
        command.Parameters.AddWithValue(_prefix + "-");
        command.Parameters.AddWithValue(from.UtcDateTime);
        command.Parameters.AddWithValue(to.UtcDateTime);
        var gaps = new Dictionary<int, TimeSpan>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            gaps[reader.GetInt32(0)] = reader.GetTimeSpan(1);
        }
        return gaps;
    }

    // The seqs of each job below its highest stored one that were not stored, as ranges (a job's seq is the round).
    async Task<string> MissingAsync()
    {
        await using var command = Database.DataSource.CreateCommand(
            """
            with stored as (select stream_id as p, seq as o from es.events where starts_with(stream_id, $1)),
            missing as (
                select p, o from (select p, generate_series(1, max(o)) as o from stored group by p) all_seqs
                except select p, o from stored)
            select string_agg(format('%s:%s..%s', p, first, last), ' ' order by p, first) from (
                select p, min(o) as first, max(o) as last from (select p, o, o - row_number() over (partition by p order by o) as run from missing) r
                group by p, run) ranges
            """);
        command.Parameters.AddWithValue(_prefix + "-");
        return await command.ExecuteScalarAsync() as string ?? "none";
    }

    async Task<long> CountAsync(string aggregate)
    {
        await using var command = Database.DataSource.CreateCommand($"select {aggregate} from es.events where starts_with(stream_id, $1)");
        command.Parameters.AddWithValue(_prefix + "-");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    int Produce(CancellationToken stop)
    {
        using var producer = new ProducerBuilder<byte[], byte[]>(
            new ProducerConfig { BootstrapServers = _kafka.BootstrapServers, EnableIdempotence = true, LingerMs = 1 }).Build();
        var round = 0;
        var next = DateTime.UtcNow;
        while (!stop.IsCancellationRequested)
        {
            round++;
            for (var partition = 0; partition < Partitions; partition++)
            {
                for (var j = 0; j < JobsPerPartition; j++)
                {
                    var (key, value) = IngestProbe.Signals($"{_prefix}-{partition}-{j}", round, 1).Single();
                    producer.Produce(new TopicPartition(Topics.Signals, partition),
                        new Message<byte[], byte[]> { Key = System.Text.Encoding.UTF8.GetBytes(key), Value = value });
                }
            }
            producer.Flush(TimeSpan.FromSeconds(30));
            next += Round;
            // The producer's pace, not a wait for something to happen.
            if (next > DateTime.UtcNow)
            {
                stop.WaitHandle.WaitOne(next - DateTime.UtcNow);
            }
        }
        return round;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopProducing.CancelAsync();
        if (_producing is not null)
        {
            await _producing;
        }
        var keep = Environment.GetEnvironmentVariable("STREAMING_TEST_KEEP_LOGS");
        foreach (var (name, instance) in _instances)
        {
            if (!instance.HasExited)
            {
                instance.Signal(Resume);
            }
            await instance.DisposeAsync();
            if (!string.IsNullOrEmpty(keep))
            {
                Directory.CreateDirectory(keep);
                await File.WriteAllTextAsync(Path.Combine(keep, $"{_prefix}-{name}.log"), instance.Output);
            }
        }
        _stopProducing.Dispose();
        _kafka.Dispose();
        await Database.DisposeAsync();
    }
}
