using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Streaming.Contracts.Json;
using Streaming.Contracts.PhaseChanges;
using Streaming.Hosting.Kafka;

namespace Streaming.Embedded.Fleet;

/// <summary>
/// A fleet of simulated jobs on accelerated event time: each emits a signal every simulated minute to
/// <c>job-signals</c> and follows the phase changes it reads from <c>job-phase-changes</c>, as a real job would.
/// </summary>
sealed class FleetSimulator(
    IOptions<FleetOptions> fleetOptions,
    IOptions<KafkaOptions> kafkaOptions,
    NpgsqlDataSource dataSource,
    ILogger<FleetSimulator> logger) : BackgroundService
{
    static readonly DateTimeOffset DefaultStart = new(2026, 1, 5, 8, 0, 0, TimeSpan.Zero);
    static readonly string[] Teams = ["orders", "payments", "inventory", "users", "shipping"];
    static readonly string[] Regions = ["eu", "us", "ap"];

    readonly FleetOptions _options = fleetOptions.Value;
    readonly KafkaOptions _kafka = kafkaOptions.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var (clock, phases) = await ResumeAsync(stoppingToken);
        var random = new Random(_options.Seed);
        var jobs = Enumerable.Range(1, _options.Jobs).Select(i => CreateJob(i, random)).ToDictionary(j => j.JobId);
        foreach (var job in jobs.Values)
        {
            job.Resume(phases.GetValueOrDefault(job.JobId, "shadow"), clock);
        }
        logger.LogInformation(
            "Fleet of {Jobs} jobs starts at simulated {Clock:u}: {Healthy} healthy, {Broken} broken, {Regressing} regressing, {Noisy} noisy",
            jobs.Count, clock, Count(jobs, JobProfile.Healthy), Count(jobs, JobProfile.Broken), Count(jobs, JobProfile.Regressing), Count(jobs, JobProfile.Noisy));

        using var producer = new ProducerBuilder<string, byte[]>(KafkaClientConfig.Producer(_kafka, "streaming-fleet")).Build();
        var listener = Task.Run(() => FollowPhaseChanges(jobs, () => clock, stoppingToken), CancellationToken.None);
        using var timer = new PeriodicTimer(_options.TickInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                clock = clock.AddMinutes(1);
                var seq = clock.ToUnixTimeSeconds() / 60;
                foreach (var job in jobs.Values)
                {
                    var signal = job.Emit(clock, seq);
                    producer.Produce(_kafka.SignalsTopic, new Message<string, byte[]> { Key = job.JobId, Value = ContractsJson.SerializeToUtf8(signal) });
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        producer.Flush(TimeSpan.FromSeconds(5));
        await listener;
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

    // A second run continues the first: event time goes on from the last stored signal, and jobs resume their phases.
    async Task<(DateTimeOffset Clock, Dictionary<string, string> Phases)> ResumeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var last = new NpgsqlCommand("select max(event_time) from es.events", connection);
        var clock = await last.ExecuteScalarAsync(cancellationToken) is DateTime latest
            ? new DateTimeOffset(DateTime.SpecifyKind(latest, DateTimeKind.Utc)).AddMinutes(1)
            : DefaultStart;
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

    static int Count(Dictionary<string, SimulatedJob> jobs, JobProfile profile) => jobs.Values.Count(j => j.Profile == profile);
}
