using System.Text;
using Streaming.Contracts;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.PhaseChanges;
using Streaming.Promoter.Decisions;
using Streaming.Promoter.Publishing;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.EndToEnd;

public sealed class PromotionTests(Pipeline pipeline) : IClassFixture<Pipeline>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    readonly StoreProbe _store = new(pipeline.Database);

    [Fact]
    public async Task Healthy_shadow_job_is_promoted_once_and_the_change_reaches_kafka()
    {
        // Given a job reporting clean metrics in shadow for 40 minutes of event time
        const string job = "e2e-promote-1";
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);
        producer.Produce(SignalFactory.Minutes(job, 0, 40, "shadow", SignalFactory.Good));

        // Then one promotion to reverse shadow is published, decided at the signal that completed the 30-minute soak
        using var reader = new TopicReader(pipeline.Kafka.BootstrapServers, Topics.PhaseChanges, 4);
        var change = ForJob(reader.ReadUntil(m => ForJob(m, job).Count > 0, Timeout, "the promotion"), job).Single();
        Assert.Equal(PhaseChangedMessage.SchemaV1, change.Schema);
        Assert.Equal(("shadow", "reverse_shadow", PhaseDirection.Promote), (change.From, change.To, change.Direction));
        Assert.Equal(SignalFactory.Start.AddMinutes(30), change.DecidedAt);
        Assert.Equal("cdc-migration@1", change.Policy);
        Assert.Contains("checksum_mismatch_rate", change.Reason, StringComparison.Ordinal);
        Assert.Equal(EventIds.ForDecision(job, 31), change.EventId);
        Assert.Equal($"corr-{job}-31", change.CorrelationId);
        Assert.Equal(["checksum_mismatch_rate", "landing_latency_p95_ms", "error_rate"], change.Criteria!.Select(c => c.Metric));
        Assert.All(change.Criteria!, c => Assert.Equal(("max", "<=", "pass"), (c.Aggregation, c.Comparison, c.Verdict)));

        // And the store holds exactly that one decision, at the version the message names, after everything was processed
        await Eventually.True(() => _store.HasProcessedAsync(DecisionFold.CheckpointName, job), Timeout, "the promoter to process the job");
        await Eventually.True(() => _store.HasProcessedAsync(PhaseChangeRelay.CheckpointName, job), Timeout, "the relay to publish the job");
        Assert.Equal(1, await _store.CountEventsAsync(job, PhaseChanged.EventType));
        Assert.Single(ForJob(reader.Drain(TimeSpan.FromMilliseconds(300)), job));
        Assert.Equal("reverse_shadow", await Eventually.Get(() => _store.PhaseAsync(job), p => p == "reverse_shadow", Timeout, "the projection"));
    }

    [Fact]
    public async Task Job_breaking_its_admission_criteria_three_times_in_a_row_is_demoted()
    {
        // Given a job in reverse shadow that reports two bad readings, one good, then three bad
        const string job = "e2e-demote-1";
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);
        producer.Produce(SignalFactory.Minutes(job, 0, 10, "reverse_shadow", SignalFactory.Good)
            .Concat(SignalFactory.Minutes(job, 10, 2, "reverse_shadow", SignalFactory.Failing))
            .Concat(SignalFactory.Minutes(job, 12, 1, "reverse_shadow", SignalFactory.Good))
            .Concat(SignalFactory.Minutes(job, 13, 3, "reverse_shadow", SignalFactory.Failing)));

        // Then it is demoted to shadow at the third consecutive breach, and only then
        using var reader = new TopicReader(pipeline.Kafka.BootstrapServers, Topics.PhaseChanges, 4);
        var change = ForJob(reader.ReadUntil(m => ForJob(m, job).Count > 0, Timeout, "the demotion"), job).Single();
        Assert.Equal(("reverse_shadow", "shadow", PhaseDirection.Demote), (change.From, change.To, change.Direction));
        Assert.Equal(SignalFactory.Start.AddMinutes(15), change.DecidedAt);
        Assert.Contains("error_rate", change.Reason, StringComparison.Ordinal);
        await Eventually.True(() => _store.HasProcessedAsync(DecisionFold.CheckpointName, job), Timeout, "the promoter to process the job");
        Assert.Equal(1, await _store.CountEventsAsync(job, PhaseChanged.EventType));
    }

    [Fact]
    public async Task Job_with_bad_checksums_is_never_promoted()
    {
        // Given two hours of signals with checksum mismatches ten times over the limit
        const string job = "e2e-bad-1";
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);
        producer.Produce(SignalFactory.Minutes(job, 0, 120, "shadow", SignalFactory.BadChecksums));

        // Then once every signal has been through the promoter and the projection, the job is still in shadow with no decision
        await Eventually.True(() => _store.HasProcessedAsync(DecisionFold.CheckpointName, job), Timeout, "the promoter to process the job");
        await Eventually.Get(() => _store.LastSeqAsync(job), s => s == 120, Timeout, "the projection to see all 120 signals");
        Assert.Equal(120, await _store.CountEventsAsync(job, SignalRecorded.EventType));
        Assert.Equal(0, await _store.CountEventsAsync(job, PhaseChanged.EventType));
        Assert.Equal("shadow", await _store.PhaseAsync(job));
    }

    static List<PhaseChangedMessage> ForJob(IReadOnlyList<Confluent.Kafka.ConsumeResult<byte[]?, byte[]?>> messages, string job) =>
        messages.Where(m => m.Message.Key is { } key && Encoding.UTF8.GetString(key) == job)
            .Select(m => ContractsJson.Deserialize<PhaseChangedMessage>(Encoding.UTF8.GetString(m.Message.Value!)))
            .ToList();
}
