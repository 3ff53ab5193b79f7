using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Streaming.Contracts.Json;
using Streaming.Contracts.PhaseChanges;
using Streaming.Contracts.Signals;
using Streaming.EventStore;
using Streaming.Ingest.Appending;
using Streaming.Hosting.Kafka;
using Streaming.Hosting.Resilience;
using Streaming.Ingest;

namespace Streaming.Embedded.Fleet;

/// <summary>
/// A fleet of simulated jobs on accelerated event time: each emits a signal every simulated minute to
/// <c>job-signals</c> and follows the phase changes it reads from <c>job-phase-changes</c>, as a real job would. It
/// produces no faster than Ingest stores (<see cref="IngestPacing"/>), so the broker's retention never drops a signal,
/// and a restart goes on after the newest signal it produced (in the broker, or else in the store), never repeating a seq.
/// </summary>
sealed class FleetSimulator(
    IOptions<FleetOptions> fleetOptions,
    IOptions<KafkaOptions> kafkaOptions,
    IOptions<IngestOptions> ingestOptions,
    NpgsqlDataSource dataSource,
    SignalLog store,
    LoopHealth health,
    ILogger<FleetSimulator> logger) : BackgroundService
{
    static readonly DateTimeOffset DefaultStart = new(2026, 1, 5, 8, 0, 0, TimeSpan.Zero);
    static readonly string[] Teams = ["orders", "payments", "inventory", "users", "shipping"];
    static readonly string[] Regions = ["eu", "us", "ap"];

    readonly FleetOptions _options = fleetOptions.Value;
    readonly KafkaOptions _kafka = kafkaOptions.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var random = new Random(_options.Seed);
        var jobs = Enumerable.Range(1, _options.Jobs).Select(i => CreateJob(i, random)).ToDictionary(j => j.JobId);
        var jobIds = jobs.Keys.ToHashSet(StringComparer.Ordinal);
        var topic = await Task.Run(() => SignalTopicProbe.Read(_kafka, jobIds), stoppingToken);
        var (clock, phases) = await ResumeAsync(jobIds, topic.NewestEmittedAt, stoppingToken);
        foreach (var job in jobs.Values)
        {
            job.Resume(phases.GetValueOrDefault(job.JobId, "shadow"), clock);
        }
        logger.LogInformation(
            "Fleet of {Jobs} jobs starts at simulated {Clock:u}: {Healthy} healthy, {Broken} broken, {Regressing} regressing, {Noisy} noisy",
            jobs.Count, clock, Count(jobs, JobProfile.Healthy), Count(jobs, JobProfile.Broken), Count(jobs, JobProfile.Regressing), Count(jobs, JobProfile.Noisy));

        var pacing = new IngestPacing(
            store, ingestOptions.Value.ConsumerGroup, _kafka.SignalsTopic, topic.LogEnds, _options.MaxUnstoredPerPartition, health, logger);
        using var producer = new ProducerBuilder<string, byte[]>(KafkaClientConfig.Producer(_kafka, "streaming-fleet")).Build();
        var listener = Task.Run(() => FollowPhaseChanges(jobs, () => clock, stoppingToken), CancellationToken.None);
        using var timer = new PeriodicTimer(_options.TickInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                clock = clock.AddMinutes(1);
                var seq = clock.ToUnixTimeSeconds() / 60;
                var emitted = 0;
                foreach (var job in jobs.Values)
                {
                    if (emitted++ % pacing.Chunk == 0)
                    {
                        await pacing.WaitForRoomAsync(Math.Min(pacing.Chunk, jobs.Count - emitted + 1), stoppingToken);
                    }
                    Produce(producer, pacing, job.JobId, job.Emit(clock, seq), clock);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        producer.Flush(TimeSpan.FromSeconds(5));
        await listener;
    }

    // The message carries the simulated time as its timestamp: the jobs live on that clock, and Ingest compares event
    // times with the message's to catch clocks that run ahead.
    void Produce(IProducer<string, byte[]> producer, IngestPacing pacing, string jobId, JobSignal signal, DateTimeOffset clock)
    {
        var message = new Message<string, byte[]>
        {
            Key = jobId,
            Value = ContractsJson.SerializeToUtf8(signal),
            Timestamp = new Timestamp(clock),
        };
        while (true)
        {
            try
            {
                producer.Produce(_kafka.SignalsTopic, message, report => pacing.Completed(report.Error.IsError ? null : report.Partition.Value));
                pacing.Produced();
                return;
            }
            catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(50));
            }
        }
    }

    void FollowPhaseChanges(Dictionary<string, SimulatedJob> jobs, Func<DateTimeOffset> clock, CancellationToken stoppingToken)
    {
        var config = KafkaClientConfig.Consumer(_kafka, "streaming-fleet", "streaming-fleet");
        config.AutoOffsetReset = AutoOffsetReset.Latest;
        config.EnableAutoCommit = true;
        config.EnableAutoOffsetStore = true;
        using var consumer = new ConsumerBuilder<string, byte[]>(config).Build();
        consumer.Subscribe(_kafka.PhaseChangesTopic);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var result = consumer.Consume(stoppingToken);
                var change = ContractsJson.Deserialize<PhaseChangedMessage>(Encoding.UTF8.GetString(result.Message.Value));
                if (jobs.TryGetValue(change.JobId, out var job))
                {
                    job.Tell(change.To, clock().AddMinutes(_options.AcknowledgeAfterMinutes));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            consumer.Close();
        }
    }

    // A restart continues where the fleet stopped: event time goes on after the newest signal in the broker or the store
    // (seqs are minutes of event time, so none repeats with other content), and jobs resume their assigned phases.
    // Other writers (policy publications, the API, sample jobs) keep clocks of their own: only the fleet's streams count.
    async Task<(DateTimeOffset Clock, Dictionary<string, string> Phases)> ResumeAsync(
        IReadOnlySet<string> jobIds, DateTimeOffset? newestInBroker, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var last = new NpgsqlCommand(
            """
            select max(e.event_time) from unnest($1::text[]) j(id)
            cross join lateral (select event_time from es.events where stream_id = j.id order by version desc limit 1) e
            """, connection);
        last.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. jobIds] });
        DateTimeOffset? newestStored = await last.ExecuteScalarAsync(cancellationToken) is DateTime latest
            ? new DateTimeOffset(DateTime.SpecifyKind(latest, DateTimeKind.Utc))
            : null;
        var clock = Max(newestStored, newestInBroker) is { } newest ? newest.AddMinutes(1) : DefaultStart;
        var phases = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var assigned = new NpgsqlCommand(
            "select job_id, phase from projections.job_states", connection);
        try
        {
            await using var reader = await assigned.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                phases[reader.GetString(0)] = reader.GetString(1);
            }
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
        }
        return (clock, phases);
    }

    static SimulatedJob CreateJob(int index, Random random)
    {
        var team = Teams[index % Teams.Length];
        var region = Regions[index / Teams.Length % Regions.Length];
        var profile = (index % 10) switch
        {
            0 => JobProfile.Broken,
            1 => JobProfile.Regressing,
            2 => JobProfile.Noisy,
            _ => JobProfile.Healthy,
        };
        return new SimulatedJob($"cdc-{team}-{region}-{index}", profile, team, region, new Random(random.Next()));
    }

    static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;

    static int Count(Dictionary<string, SimulatedJob> jobs, JobProfile profile) => jobs.Values.Count(j => j.Profile == profile);
}
