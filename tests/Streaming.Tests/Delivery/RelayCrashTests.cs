using System.Text;
using Npgsql;
using Streaming.Embedded.Broker;
using Streaming.Contracts;
using Streaming.Contracts.Json;
using Streaming.Contracts.PhaseChanges;
using Streaming.EventStore;
using Streaming.Hosting.Kafka;
using Streaming.Promoter.Publishing;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Delivery;

/// <summary>
/// The Promoter as its own process, killed with SIGKILL at the two points that matter to an outbox relay, publishing
/// to the embedded Kafka-protocol broker and to a real RabbitMQ at once.
/// </summary>
public sealed class RelayCrashTests : IAsyncLifetime
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    static readonly string[] Checkpoints = [PhaseChangeRelay.CheckpointName, BusPhaseChangeTransport.CheckpointName];

    const int HoldLock = 424242;

    readonly MigratedDatabase _database = new();
    readonly EmbeddedKafkaCluster _kafka = EmbeddedKafkaCluster.Start();
    readonly string _exchange = RabbitMqBroker.NewExchange();
    readonly string[] _jobs = [.. Enumerable.Range(1, 4).Select(i => $"relay-crash-{i}-{Guid.NewGuid():N}")];
    TcpGate _gate = null!;

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        await InstallCheckpointHoldAsync();
        _kafka.CreateTopic(Topics.PhaseChanges, 4);
        _gate = new TcpGate(RabbitMqBroker.Url.Host, RabbitMqBroker.Url.Port);
    }

    public async Task DisposeAsync()
    {
        await _gate.DisposeAsync();
        _kafka.Dispose();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Killed_before_publishing_or_before_its_checkpoint_it_loses_no_decision_and_repeats_only_the_same_event_ids()
    {
        var streams = new EventStreams(_database.DataSource);
        using var kafka = new TopicReader(_kafka.BootstrapServers, Topics.PhaseChanges, 4);
        await using var bus = await BusObserver.StartAsync(RabbitMqBroker.Url, _exchange, _exchange + ".", _jobs);

        // Given a Promoter that published a first batch of decisions to both brokers and checkpointed them
        var promoter = StartPromoter();
        var first = await RecordedDecisions.AppendAsync(streams, _jobs, 2);
        await WaitUntilPublishedAsync(kafka, bus, first.Values.SelectMany(ids => ids));
        await WaitUntilCheckpointedAsync();

        // When, with its checkpoints locked, it publishes a second batch and is killed before it can checkpoint it
        Dictionary<string, List<Guid>> second;
        await using (var held = await HoldCheckpointsAsync())
        {
            second = await RecordedDecisions.AppendAsync(streams, _jobs, 2);
            await WaitUntilPublishedAsync(kafka, bus, second.Values.SelectMany(ids => ids));
            await promoter.KillAsync();
        }

        // And, with both brokers unreachable, a third batch is recorded and the next Promoter is killed while failing to publish
        var third = await RecordedDecisions.AppendAsync(streams, _jobs, 2);
        _gate.Cut();
        SetBrokers(up: false);
        await using (var unpublished = StartPromoter())
        {
            await unpublished.WaitForLogAsync($"{PhaseChangeRelay.CheckpointName}: outage began", Timeout);
            await unpublished.WaitForLogAsync($"{BusPhaseChangeTransport.CheckpointName}: outage began", Timeout);
            await unpublished.KillAsync();
        }
        _gate.Restore();
        SetBrokers(up: true);

        // Then a Promoter started again publishes every decision on both, in each job's order; repeats carry the same event id
        await using var restarted = StartPromoter();
        var all = first.Values.Concat(second.Values).Concat(third.Values).SelectMany(ids => ids).ToHashSet();
        await WaitUntilPublishedAsync(kafka, bus, all);
        await WaitUntilCheckpointedAsync();
        var fromKafka = kafka.Seen.Select(r => ContractsJson.Deserialize<PhaseChangedMessage>(Encoding.UTF8.GetString(r.Message.Value!))).ToList();
        foreach (var (transport, received) in new[] { ("kafka", fromKafka), ("bus", bus.Received.Select(r => r.Change).ToList()) })
        {
            Assert.Equal(all, received.Select(c => c.EventId).ToHashSet());
            // A copy is the same decision: same event id, same content (compared as published: the criteria are a list,
            // which record equality compares by reference)
            Assert.All(received.GroupBy(c => c.EventId), copies => Assert.Single(copies.Select(ContractsJson.Serialize).Distinct()));
            // The batch published but not checkpointed was published again after the crash
            Assert.All(second.Values.SelectMany(ids => ids), id => Assert.True(received.Count(c => c.EventId == id) >= 2, $"{transport}: {id} was not published again"));
            // Each job's decisions first arrive in version order
            Assert.All(_jobs, job =>
            {
                var firstSeen = received.Where(c => c.JobId == job).Select(c => c.Version).Distinct().ToList();
                Assert.Equal(firstSeen.Order(), firstSeen);
            });
        }
        // And every job's queue got its own decisions only
        Assert.All(bus.Received, r => Assert.Equal(r.Queue, r.Change.JobId));
    }

    ServiceProcess StartPromoter() => ServiceProcess.Start("Promoter", new Dictionary<string, string>
    {
        ["ConnectionStrings__EventStore"] = new NpgsqlConnectionStringBuilder(_database.DataSource.ConnectionString).ConnectionString,
        ["Kafka__BootstrapServers"] = _kafka.BootstrapServers,
        ["Kafka__CreateTopics"] = "false",
        ["Bus__RabbitMqUrl"] = RabbitMqBroker.Through(_gate).ToString(),
        ["Bus__Exchange"] = _exchange,
        ["Promoter__RelayPublishTimeout"] = "00:00:02",
        ["Serilog__MinimumLevel__Default"] = "Warning",
    });

    void SetBrokers(bool up)
    {
        foreach (var broker in new[] { 1, 2, 3 })
        {
            if (up)
            {
                _kafka.SetBrokerUp(broker);
            }
            else
            {
                _kafka.SetBrokerDown(broker);
            }
        }
    }

    static async Task WaitUntilPublishedAsync(TopicReader kafka, BusObserver bus, IEnumerable<Guid> ids)
    {
        var wanted = ids.ToHashSet();
        await Task.Run(() => kafka.ReadUntil(
            seen => wanted.IsSubsetOf(seen.Select(r => Guid.Parse(Encoding.UTF8.GetString(r.Message.Headers.GetLastBytes("event-id"))))),
            Timeout, "the decisions on Kafka"));
        await Eventually.True(() => Task.FromResult(wanted.IsSubsetOf(bus.Received.Select(r => r.Change.EventId))), Timeout, "the decisions on the bus");
    }

    async Task WaitUntilCheckpointedAsync()
    {
        var probe = new StoreProbe(_database.DataSource);
        foreach (var checkpoint in Checkpoints)
        {
            foreach (var job in _jobs)
            {
                await Eventually.True(() => probe.HasProcessedAsync(checkpoint, job), Timeout, $"{checkpoint} to pass {job}");
            }
        }
    }

    // The relays' checkpoint updates wait on an advisory lock while a test session holds it (a trigger of this test's
    // database only). Holding it takes no transaction id, so the log's tail, which waits for older open transactions,
    // goes on serving the relays meanwhile.
    async Task InstallCheckpointHoldAsync()
    {
        await using var command = _database.DataSource.CreateCommand($$"""
            create function public.hold_relay_checkpoints() returns trigger language plpgsql as $$
            begin
              if new.name = any(array['{{Checkpoints[0]}}', '{{Checkpoints[1]}}']) then
                perform pg_advisory_xact_lock_shared({{HoldLock}});
              end if;
              return new;
            end $$;
            create trigger hold_relay_checkpoints before update on es.checkpoints
              for each row execute function public.hold_relay_checkpoints();
            """);
        await command.ExecuteNonQueryAsync();
    }

    async Task<CheckpointHold> HoldCheckpointsAsync()
    {
        var connection = await _database.DataSource.OpenConnectionAsync();
        await using var command = new NpgsqlCommand($"select pg_advisory_lock({HoldLock})", connection);
        await command.ExecuteNonQueryAsync();
        return new CheckpointHold(connection);
    }

    sealed class CheckpointHold(NpgsqlConnection connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await using (var command = new NpgsqlCommand($"select pg_advisory_unlock({HoldLock})", connection))
            {
                await command.ExecuteNonQueryAsync();
            }
            await connection.DisposeAsync();
        }
    }
}
