using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Streaming.Contracts;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.PhaseChanges;
using Streaming.Embedded.Broker;
using Streaming.EventStore;
using Streaming.Hosting.Kafka;
using Streaming.Hosting.Resilience;
using Streaming.Projections.Tail;
using Streaming.Promoter.Publishing;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;
using Streaming.Tests.Tail;

namespace Streaming.Tests.Delivery;

/// <summary>A relay handed the decisions its process commits publishes them without reading them back from the store.</summary>
public sealed class InProcessHandOffTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>, IDisposable
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    readonly EmbeddedKafkaCluster _kafka = StartKafka();
    readonly string _job = "hand-off-" + Guid.NewGuid().ToString("N");

    public void Dispose() => _kafka.Dispose();

    [Fact]
    public async Task A_handed_over_decision_is_published_while_the_tails_reads_are_blocked_and_not_again_when_the_log_brings_it()
    {
        // Given a relay to Kafka on a tail, subscribed to the process's hand-over, that has published a first decision
        var feed = new PhaseChangeFeed();
        using var transport = new KafkaPhaseChangeTransport(new KafkaOptions { BootstrapServers = _kafka.BootstrapServers }, TimeSpan.FromSeconds(10));
        var relay = new PhaseChangeRelay(database.DataSource, transport, "relay-" + Guid.NewGuid().ToString("N"), NullLogger<PhaseChangeRelay>.Instance,
            feed.Subscribe());
        var tail = new LogTail(database.DataSource, [relay], new TailOptions { PollInterval = TimeSpan.FromMilliseconds(20) }, new LoopHealth(),
            NullLoggerFactory.Instance);
        await using var running = new RunningTail(tail);
        using var kafka = new TopicReader(_kafka.BootstrapServers, Topics.PhaseChanges, 4);
        var first = await RecordAsync(1);
        feed.Offer([first]);
        kafka.ReadUntil(seen => Ids(seen).Contains(first.EventId), Timeout, "the first decision on Kafka");
        await Eventually.True(async () => relay.Position == await SettledTail.EndAsync(database.DataSource), Timeout, "the relay to fold the first decision");

        // When the tail's reads of the log are blocked and a second decision is handed over
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using var blocking = await connection.BeginTransactionAsync();
        await using (var lockEvents = new NpgsqlCommand("lock table es.events in access exclusive mode", connection, blocking))
        {
            await lockEvents.ExecuteNonQueryAsync();
        }
        await Eventually.True(TailBlockedAsync, Timeout, "the tail's read to wait on the locked log");
        var readsWhileBlocked = tail.Reads;
        var second = Decision(2);
        feed.Offer([second]);

        // Then it is published without a read of the log
        kafka.ReadUntil(seen => Ids(seen).Contains(second.EventId), Timeout, "the handed-over decision on Kafka");
        Assert.Equal(readsWhileBlocked, tail.Reads);
        Assert.Equal(1, relay.PublishedAhead);
        await blocking.RollbackAsync();

        // And when the log brings it (recorded now), and a third decision after it that was not handed over, only the third goes out
        await AppendAsync(second);
        var third = await RecordAsync(3);
        kafka.ReadUntil(seen => Ids(seen).Contains(third.EventId), Timeout, "the third decision on Kafka");
        Assert.Equal(1, Ids(kafka.Seen).Count(id => id == second.EventId));
        Assert.Equal([first.EventId, second.EventId, third.EventId], Ids(kafka.Seen));
        // The relay counts a publication once the broker confirmed it, which the reader may see first.
        await Eventually.Get(() => Task.FromResult(relay.Published), p => p >= 3, Timeout, "the relay to count its publications");
        Assert.Equal(3, relay.Published);
    }

    static EmbeddedKafkaCluster StartKafka()
    {
        var kafka = EmbeddedKafkaCluster.Start();
        kafka.CreateTopic(Topics.PhaseChanges, 4);
        return kafka;
    }

    static List<Guid> Ids(IEnumerable<Confluent.Kafka.ConsumeResult<byte[]?, byte[]?>> seen) =>
        [.. seen.Select(r => ContractsJson.Deserialize<PhaseChangedMessage>(Encoding.UTF8.GetString(r.Message.Value!)).EventId)];

    async Task<bool> TailBlockedAsync()
    {
        await using var command = database.DataSource.CreateCommand(
            "select exists (select from pg_locks where relation = 'es.events'::regclass and not granted)");
        return (bool)(await command.ExecuteScalarAsync())!;
    }

    async Task<PhaseChangedMessage> RecordAsync(int version)
    {
        var message = Decision(version);
        await AppendAsync(message);
        return message;
    }

    async Task AppendAsync(PhaseChangedMessage message)
    {
        var change = new PhaseChanged(message.EventId, message.JobId, message.From, message.To, message.Direction, message.Reason, message.DecidedAt,
            message.Policy, message.Version, message.Version, message.Version, []);
        await new EventStreams(database.DataSource).AppendToStreamAsync(_job, message.Version - 1,
            [new EventToAppend(change.EventId, PhaseChanged.EventType, ContractsJson.Serialize(change), ContractsJson.Serialize(new EventMetadata(null, null)), change.DecidedAt)],
            CancellationToken.None);
    }

    PhaseChangedMessage Decision(int version) =>
        new(PhaseChangedMessage.SchemaV1, EventIds.ForDecision(_job, version), _job, $"phase-{version - 1}", $"phase-{version}", PhaseDirection.Promote,
            $"test decision {version}", new DateTimeOffset(2026, 4, 6, 8, version, 0, TimeSpan.Zero), "cdc-migration@1", version);
}
