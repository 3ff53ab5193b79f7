using Streaming.Contracts.History;
using Streaming.Contracts.PhaseChanges;
using Streaming.JobClient;
using Streaming.JobClient.Phases;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Delivery;

public sealed class JobClientRoundTripTests(BusPipeline system) : IClassFixture<BusPipeline>, IDisposable
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    readonly string _state = Directory.CreateTempSubdirectory("streaming-job-client-").FullName;
    readonly StoreProbe _store = new(system.Pipeline.Database);

    [Theory]
    [InlineData(PhaseFeed.RabbitMq)]
    [InlineData(PhaseFeed.Kafka)]
    public async Task A_job_using_the_client_library_is_promoted_switches_acknowledges_and_restarts_in_its_new_phase(PhaseFeed feed)
    {
        // Given a job that joins through the library, in shadow, on event time the test moves
        var job = $"client-{feed}-{Guid.NewGuid():N}".ToLowerInvariant();
        var clock = new ManualClock(SignalFactory.Start);
        var switches = new List<PhaseAssignment>();
        var client = await StartAsync(job, feed, clock, switches);
        Assert.Equal("shadow", client.Phase);

        // When it reports clean metrics once a simulated minute for 40 minutes
        for (var minute = 0; minute < 40; minute++)
        {
            clock.Now = SignalFactory.Start.AddMinutes(minute);
            client.Report(SignalFactory.Good, $"corr-{minute}");
        }

        // Then its callback hears the promotion decided at the signal that completed the 30-minute soak, once
        await Eventually.True(() => Task.FromResult(client.Phase == "reverse_shadow"), Timeout, "the job to switch phase");
        var promotion = Assert.Single(switches);
        Assert.Equal((job, "shadow", "reverse_shadow", PhaseDirection.Promote), (promotion.JobId, promotion.PreviousPhase, promotion.Phase, promotion.Direction));
        Assert.Equal(SignalFactory.Start.AddMinutes(30), promotion.DecidedAt);
        Assert.False(promotion.AtStartup);

        // When it reports again, the signal carries the new phase: the change is acknowledged
        clock.Now = SignalFactory.Start.AddMinutes(40);
        client.Report(SignalFactory.Good);
        await Eventually.True(async () => await ReportedPhaseAsync(job) == "reverse_shadow", Timeout, "the acknowledgement to be projected");
        await client.DisposeAsync();

        // And restarted with its first configuration, it reads its current phase at start-up and goes on from there
        switches.Clear();
        await using var restarted = await StartAsync(job, feed, clock, switches);
        Assert.Equal("reverse_shadow", restarted.Phase);
        Assert.True(Assert.Single(switches).AtStartup);
        clock.Now = SignalFactory.Start.AddMinutes(41);
        restarted.Report(SignalFactory.Good);
        await Eventually.Get(() => _store.CountEventsAsync(job, SignalRecorded.EventType), n => n == 42, Timeout, "all 42 signals stored");
        Assert.Equal(0, restarted.SignalsDropped);
    }

    Task<StreamingJob> StartAsync(string job, PhaseFeed feed, TimeProvider clock, List<PhaseAssignment> switches) =>
        StreamingJob.StartAsync(
            new JobClientOptions
            {
                JobId = job,
                KafkaBootstrapServers = system.Pipeline.Kafka.BootstrapServers,
                InitialPhase = "shadow",
                Labels = new Dictionary<string, string> { ["team"] = "tests" },
                PhaseFeed = feed,
                RabbitMqUrl = RabbitMqBroker.Url.ToString(),
                RabbitMqExchange = system.Exchange,
                RabbitMqQueue = system.Exchange + "." + PhaseChangeBus.QueueName(job),
                StateDirectory = _state,
                Linger = TimeSpan.FromMilliseconds(5),
            },
            (assignment, _) =>
            {
                lock (switches)
                {
                    switches.Add(assignment);
                }
                return Task.CompletedTask;
            },
            clock: clock);

    async Task<string?> ReportedPhaseAsync(string job)
    {
        await using var command = system.Pipeline.Database.CreateCommand(
            "select last_reported_phase from projections.job_states where job_id = $1 and not awaiting_ack");
        command.Parameters.AddWithValue(job);
        try
        {
            return await command.ExecuteScalarAsync() as string;
        }
        catch (Npgsql.PostgresException e) when (e.SqlState == Npgsql.PostgresErrorCodes.UndefinedTable)
        {
            return null;
        }
    }

    public void Dispose() => Directory.Delete(_state, recursive: true);
}
