using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Streaming.Contracts;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.PhaseChanges;
using Streaming.Lifecycle;
using Streaming.Promoter.Decisions;
using Streaming.EventStore;
using Streaming.Promoter.Fleet;
using Streaming.Promoter.Overrides;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.EndToEnd;

public sealed class OverrideTests(Pipeline pipeline) : IClassFixture<Pipeline>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    readonly StoreProbe _store = new(pipeline.Database);

    OverrideWriter Overrides => pipeline.DeciderServices.GetRequiredService<OverrideWriter>();

    [Fact]
    public async Task A_held_job_is_not_promoted_and_a_pin_moves_it_reaching_kafka_with_who_and_why()
    {
        // Given a shadow job that an operator holds before it has passed anything
        const string job = "override-1";
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);
        producer.Produce(SignalFactory.Minutes(job, 0, 1, "shadow", SignalFactory.Good));
        await Eventually.Get(() => _store.LastSeqAsync(job), s => s == 1, Timeout, "the projection to see the first signal");
        await Eventually.True(() => _store.HasProcessedAsync(DecisionFold.CheckpointName, job), Timeout, "the promoter to see the job");
        await Overrides.SetAsync(job, OverrideKind.Hold, null, "alice", "checksum audit", null, CancellationToken.None);

        // When it reports 40 healthy minutes, enough for a promotion
        producer.Produce(SignalFactory.Minutes(job, 1, 40, "shadow", SignalFactory.Good));
        await Eventually.Get(() => _store.LastSeqAsync(job), s => s == 41, Timeout, "the projection to see all 41 signals");
        await Eventually.True(() => _store.HasProcessedAsync(DecisionFold.CheckpointName, job), Timeout, "the promoter to process the job");

        // Then it was not promoted, and the dashboard row says it is held
        Assert.Equal(0, await _store.CountEventsAsync(job, PhaseChanged.EventType));
        Assert.Contains(LifecycleFlags.Held, await FlagsAsync(job));

        // When the operator pins it to cleanup instead
        await Overrides.SetAsync(job, OverrideKind.Pin, "cleanup", "bob", "migrated by hand", null, CancellationToken.None);

        // Then the move reaches Kafka as an override naming who and why, the replaced hold is recorded as ended,
        // and the job is pinned in cleanup
        using var reader = new TopicReader(pipeline.Kafka.BootstrapServers, Topics.PhaseChanges, 4);
        var change = reader.ReadUntil(m => ForJob(m, job).Count > 0, Timeout, "the pin").Where(m => Key(m) == job)
            .Select(m => ContractsJson.Deserialize<PhaseChangedMessage>(Encoding.UTF8.GetString(m.Message.Value!))).Single();
        Assert.Equal(("shadow", "cleanup", PhaseDirection.Override, "override"), (change.From, change.To, change.Direction, change.Policy));
        Assert.Equal("pin to cleanup by bob: migrated by hand", change.Reason);
        Assert.Equal(1, await _store.CountEventsAsync(job, OverrideEnded.EventType));
        Assert.Equal("cleanup", await Eventually.Get(() => _store.PhaseAsync(job), p => p == "cleanup", Timeout, "the projection"));
        Assert.Contains(LifecycleFlags.Pinned, await FlagsAsync(job));
    }

    [Fact]
    public async Task A_known_issue_holds_its_jobs_apart_from_regressions_until_it_is_resolved()
    {
        // Given a known issue naming one job, opened before the job's history
        const string job = "known-issue-1";
        var fleet = pipeline.DeciderServices.GetRequiredService<FleetWriter>();
        await fleet.OpenIssueAsync("INC-1", "legacy driver loses rows", [job], new Dictionary<string, string>(), "alice", CancellationToken.None);
        await Assert.ThrowsAsync<WrongExpectedVersionException>(() =>
            fleet.OpenIssueAsync("INC-1", "again", [job], new Dictionary<string, string>(), "alice", CancellationToken.None));

        // When the job reports 40 healthy minutes in shadow
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);
        producer.Produce(SignalFactory.Minutes(job, 0, 40, "shadow", SignalFactory.Good));
        await Eventually.Get(() => _store.LastSeqAsync(job), s => s == 40, Timeout, "the projection to see all 40 signals");
        await Eventually.True(() => _store.HasProcessedAsync(DecisionFold.CheckpointName, job), Timeout, "the promoter to process the job");

        // Then it is not promoted, and is shown as held by the issue, not as a regression
        Assert.Equal(0, await _store.CountEventsAsync(job, PhaseChanged.EventType));
        var flags = await FlagsAsync(job);
        Assert.Contains(LifecycleFlags.KnownIssue, flags);
        Assert.Contains("known-issue:INC-1", flags);
        Assert.DoesNotContain("regressed", flags);

        // When the issue is resolved and the job signals again
        await fleet.ResolveIssueAsync("INC-1", "alice", "driver fixed", CancellationToken.None);
        await Assert.ThrowsAsync<WrongExpectedVersionException>(() => fleet.ResolveIssueAsync("INC-1", "alice", "twice", CancellationToken.None));
        producer.Produce(SignalFactory.Minutes(job, 40, 1, "shadow", SignalFactory.Good));

        // Then the policy promotes it
        Assert.Equal("reverse_shadow", await Eventually.Get(() => _store.PhaseAsync(job), p => p == "reverse_shadow", Timeout, "the promotion"));
        Assert.DoesNotContain(LifecycleFlags.KnownIssue, await FlagsAsync(job));
    }

    const string Waved = """
        name: waved
        priority: 10
        selector:
          matchLabels: { lane: waved }
        phases: [shadow, reverse_shadow]
        gates:
          - from: shadow
            to: reverse_shadow
            soak: 5m
            wave: { maxInFlight: 1 }
            promote:
              window: 5m
              criteria:
                - { metric: error_rate, aggregation: max, comparison: "<=", threshold: 0.01 }
        """;

    [Fact]
    public async Task A_job_waiting_for_a_wave_slot_is_shown_so_with_why_until_it_is_promoted()
    {
        // Given a policy letting one job at a time into reverse_shadow, and two of its jobs healthy for ten minutes
        var publisher = pipeline.DeciderServices.GetRequiredService<Streaming.Promoter.Policies.PolicyPublisher>();
        await publisher.PublishAsync(Waved, "tests", CancellationToken.None);
        string[] jobs = ["wave-1", "wave-2"];
        var labels = new Dictionary<string, string> { ["lane"] = "waved" };
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);
        producer.Produce(Enumerable.Range(0, 11).SelectMany(minute => jobs.Select(job =>
            SignalFactory.Signal(job, minute + 1, SignalFactory.Start.AddMinutes(minute), "shadow", SignalFactory.Good) with { Labels = labels })));
        foreach (var job in jobs)
        {
            await Eventually.Get(() => _store.LastSeqAsync(job), s => s == 11, Timeout, $"the projection to see {job}'s signals");
            await Eventually.True(() => _store.HasProcessedAsync(DecisionFold.CheckpointName, job), Timeout, $"the promoter to process {job}");
        }

        // Then one was promoted, and the other waits: told once why, and flagged so on its row
        var promoted = Assert.Single(jobs, job => _store.CountEventsAsync(job, PhaseChanged.EventType).Result == 1);
        var waiting = Assert.Single(jobs, job => job != promoted);
        Assert.Equal(1, await _store.CountEventsAsync(waiting, PromotionDeferred.EventType));
        var row = await Eventually.Get(() => WaitingRowAsync(waiting), r => r.Flags.Contains(LifecycleFlags.WaitingForSlot), Timeout, "the row to show the wait");
        Assert.Equal("waiting for a slot in the reverse_shadow wave (1 of 1 jobs promoted into it have not soaked yet); 0 jobs ahead in the queue", row.WaitingFor);
        Assert.DoesNotContain(LifecycleFlags.WaitingForSlot, (await WaitingRowAsync(promoted)).Flags);
        Assert.Equal(1, await WaitingForSlotCountAsync());

        // When the promoted job reports its new phase (it has then soaked: reverse_shadow is the last phase), then the other signals
        producer.Produce([SignalFactory.Signal(promoted, 12, SignalFactory.Start.AddMinutes(11), "reverse_shadow", SignalFactory.Good) with { Labels = labels }]);
        await Eventually.Get(() => _store.LastSeqAsync(promoted), s => s == 12, Timeout, "the projection to see the acknowledgement");
        await Eventually.True(() => _store.HasProcessedAsync(DecisionFold.CheckpointName, promoted), Timeout, "the promoter to see the acknowledgement");
        producer.Produce([SignalFactory.Signal(waiting, 12, SignalFactory.Start.AddMinutes(11), "shadow", SignalFactory.Good) with { Labels = labels }]);

        // Then the waiting job takes the free slot, and no longer shows the wait
        Assert.Equal("reverse_shadow", await Eventually.Get(() => _store.PhaseAsync(waiting), p => p == "reverse_shadow", Timeout, "the promotion"));
        row = await Eventually.Get(() => WaitingRowAsync(waiting), r => !r.Flags.Contains(LifecycleFlags.WaitingForSlot), Timeout, "the wait to end on the row");
        Assert.Null(row.WaitingFor);
        Assert.Equal(0, await WaitingForSlotCountAsync());
    }

    async Task<long> WaitingForSlotCountAsync()
    {
        await using var command = pipeline.Database.CreateCommand("select coalesce(sum(waiting_for_slot), 0) from projections.phase_counts");
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    async Task<(string[] Flags, string? WaitingFor)> WaitingRowAsync(string job)
    {
        await using var command = pipeline.Database.CreateCommand("select flags, waiting_for from projections.job_states where job_id = $1");
        command.Parameters.AddWithValue(job);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetFieldValue<string[]>(0), reader.IsDBNull(1) ? null : reader.GetString(1)) : ([], null);
    }

    static string? Key(Confluent.Kafka.ConsumeResult<byte[]?, byte[]?> message) =>
        message.Message.Key is { } key ? Encoding.UTF8.GetString(key) : null;

    static List<Confluent.Kafka.ConsumeResult<byte[]?, byte[]?>> ForJob(IReadOnlyList<Confluent.Kafka.ConsumeResult<byte[]?, byte[]?>> messages, string job) =>
        messages.Where(m => Key(m) == job).ToList();

    async Task<string[]> FlagsAsync(string job)
    {
        await using var command = pipeline.Database.CreateCommand("select flags from projections.job_states where job_id = $1");
        command.Parameters.AddWithValue(job);
        return await command.ExecuteScalarAsync() as string[] ?? [];
    }
}
