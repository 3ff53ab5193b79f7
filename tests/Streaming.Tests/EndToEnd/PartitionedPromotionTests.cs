using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Contracts;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.PhaseChanges;
using Streaming.Projector.Rebuilding;
using Streaming.Promoter.Decisions;
using Streaming.Promoter.Publishing;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.EndToEnd;

/// <summary><see cref="PromotionTests"/>' promotion, for many jobs over a store of 4 log partitions, with one instance of each service.</summary>
public sealed class PartitionedPromotionTests(PartitionedPipeline fixture) : IClassFixture<PartitionedPipeline>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    readonly Pipeline _pipeline = fixture.Pipeline;

    [Fact]
    public async Task Healthy_shadow_jobs_in_every_partition_are_each_promoted_once_and_a_rebuild_equals_the_live_job_states()
    {
        // Given 4 jobs in each of the 4 log partitions, reporting clean metrics in shadow for 40 minutes of event time
        var jobs = Enumerable.Range(0, PartitionedPipeline.Partitions).SelectMany(p => Enumerable.Range(0, 4).Select(_ => PartitionedDatabase.JobIn(p))).ToList();
        using var producer = SignalFactory.Producer(_pipeline.Kafka.BootstrapServers);
        producer.Produce(jobs.SelectMany(job => SignalFactory.Minutes(job, 0, 40, "shadow", SignalFactory.Good)));

        // Then each is promoted to reverse shadow on Kafka, decided at the signal that completed the 30-minute soak
        using var reader = new TopicReader(_pipeline.Kafka.BootstrapServers, Topics.PhaseChanges, 4);
        var published = reader.ReadUntil(m => jobs.All(job => ForJob(m, job).Count > 0), Timeout, "every job's promotion");
        var store = new StoreProbe(_pipeline.Database);
        foreach (var job in jobs)
        {
            var change = ForJob(published, job).Single();
            Assert.Equal(("shadow", "reverse_shadow", PhaseDirection.Promote), (change.From, change.To, change.Direction));
            Assert.Equal(SignalFactory.Start.AddMinutes(30), change.DecidedAt);
            Assert.Equal(EventIds.ForDecision(job, 31), change.EventId);
        }

        // And, once every fold has passed every job, the store holds exactly one decision per job, published exactly once
        foreach (var job in jobs)
        {
            await Eventually.True(() => store.HasProcessedAsync(DecisionFold.CheckpointName, job), Timeout, $"the promoter to process {job}");
            await Eventually.True(() => store.HasProcessedAsync(PhaseChangeRelay.CheckpointName, job), Timeout, $"the relay to publish {job}");
            Assert.Equal(1, await store.CountEventsAsync(job, PhaseChanged.EventType));
            await Eventually.Get(() => store.PhaseAsync(job), p => p == "reverse_shadow", Timeout, $"the projection of {job}");
            await Eventually.Get(() => store.LastSeqAsync(job), s => s == 40, Timeout, $"the projection of {job}'s last signal");
        }
        var all = reader.Drain(TimeSpan.FromMilliseconds(500));
        Assert.All(jobs, job => Assert.Single(ForJob(all, job)));
        Assert.Equal(PartitionedPipeline.Partitions, await PartitionsHoldingAsync(jobs));

        // When the job states are rebuilt from the log (every partition)
        var rebuilt = await new JobStateRebuild(_pipeline.Database, NullLogger.Instance).RunAsync(fresh: true, null, CancellationToken.None);

        // Then the rebuilt generation holds exactly what the live projection holds
        Assert.Equal(2, rebuilt.Generation);
        Assert.Equal(0L, await store.DifferingJobStatesAsync(1, 2));
    }

    async Task<long> PartitionsHoldingAsync(IReadOnlyList<string> jobs)
    {
        await using var command = _pipeline.Database.CreateCommand("select count(distinct partition) from es.events where stream_id = any($1)");
        command.Parameters.Add(new Npgsql.NpgsqlParameter<string[]> { TypedValue = [.. jobs] });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    static List<PhaseChangedMessage> ForJob(IReadOnlyList<Confluent.Kafka.ConsumeResult<byte[]?, byte[]?>> messages, string job) =>
        messages.Where(m => m.Message.Key is { } key && Encoding.UTF8.GetString(key) == job)
            .Select(m => ContractsJson.Deserialize<PhaseChangedMessage>(Encoding.UTF8.GetString(m.Message.Value!)))
            .ToList();
}
