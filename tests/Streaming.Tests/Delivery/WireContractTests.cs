using System.Text;
using Streaming.Contracts;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.PhaseChanges;
using Streaming.EventStore;
using Streaming.Tests.Contracts.Schemas;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Delivery;

/// <summary>Both relays carry <c>phase-changed/v1</c> with the deciding signal's correlation id and criteria; the Kafka value is checked by its schema.</summary>
public sealed class WireContractTests(RelayHost relay) : IClassFixture<RelayHost>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    static readonly DateTimeOffset At = new(2026, 4, 6, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Kafka_and_the_bus_carry_the_correlation_id_and_the_deciding_criteria_valid_by_the_wire_schema()
    {
        // Given a job listening on the bus, and two recorded promotions: one with the correlation id in its body, one
        // recorded before the body carried it
        var job = $"wire-{Guid.NewGuid():N}";
        await using var listening = await BusObserver.StartAsync(RabbitMqBroker.Url, relay.Exchange, relay.Exchange + ".", [job]);
        CriterionOutcome[] criteria =
        [
            new("checksum_mismatch_rate", "Max", "LessOrEqual", 0.001, 0.0002, 15, true, "pass"),
            new("landing_latency_p95_ms", "Max", "LessOrEqual", 2000, 850, 15, true, "pass"),
        ];
        var current = new PhaseChanged(EventIds.ForDecision(job, 1), job, "shadow", "reverse_shadow", "promote", "all criteria held", At,
            "cdc-migration@1", 1, 1, 1, criteria, CorrelationId: "corr-current");
        var older = new PhaseChanged(EventIds.ForDecision(job, 2), job, "reverse_shadow", "cleanup", "promote", "all criteria held", At.AddHours(1),
            "cdc-migration@1", 2, 2, 2, criteria[..1]);
        await relay.Streams.AppendToStreamAsync(job, 0, [Stored(current, "corr-current"), Stored(older, "corr-older")], CancellationToken.None);

        // Then the Kafka values are valid by the wire schema and carry each decision's correlation id and criteria
        using var reader = new TopicReader(relay.Kafka.BootstrapServers, Topics.PhaseChanges, RelayHost.Partitions);
        var values = reader.ReadUntil(m => OfJob(m, job).Count == 2, Timeout, "both changes on Kafka");
        var onKafka = OfJob(values, job);
        foreach (var json in onKafka)
        {
            Assert.Empty(ContractSchemas.Errors("phase-changed.v1.json", json));
        }
        var messages = onKafka.Select(ContractsJson.Deserialize<PhaseChangedMessage>).OrderBy(m => m.Version).ToList();
        Assert.Equal(["corr-current", null], messages.Select(m => m.CorrelationId));
        Assert.Equal([2, 1], messages.Select(m => m.Criteria!.Count));
        Assert.Equal(new PhaseChangeCriterion("landing_latency_p95_ms", "max", "<=", 2000, 850, 15, "pass"), messages[0].Criteria![1]);

        // And the bus delivers the same two, field for field
        await Eventually.True(() => Task.FromResult(listening.For(job).Count == 2), Timeout, "both changes on the bus");
        var onBus = listening.For(job);
        Assert.Equal(messages.Select(m => (m.EventId, m.CorrelationId)), onBus.Select(m => (m.EventId, m.CorrelationId)));
        Assert.Equal(messages.SelectMany(m => m.Criteria!), onBus.SelectMany(m => m.Criteria!));
    }

    static EventToAppend Stored(PhaseChanged change, string correlationId) =>
        new(change.EventId, PhaseChanged.EventType, ContractsJson.Serialize(change), ContractsJson.Serialize(new EventMetadata(correlationId, null)), change.DecidedAt);

    static List<string> OfJob(IReadOnlyList<Confluent.Kafka.ConsumeResult<byte[]?, byte[]?>> messages, string job) =>
        [.. messages.Where(m => m.Message.Key is { } key && Encoding.UTF8.GetString(key) == job).Select(m => Encoding.UTF8.GetString(m.Message.Value!))];
}
