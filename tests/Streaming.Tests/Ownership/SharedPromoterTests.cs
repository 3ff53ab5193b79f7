using System.Diagnostics;
using Streaming.Contracts.History;
using Streaming.Contracts.PhaseChanges;
using Streaming.Projector;
using Streaming.Promoter.Decisions;
using Streaming.Promoter.Publishing;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Streaming.Tests.Ownership;

/// <summary>
/// Two Promoters, each its own process, sharing the log's partitions through their group (with Ingest and one Projector
/// beside them): the decisions stored when one of them is killed, or paused past its session and resumed, are one per
/// job, the ones a single Promoter makes.
/// </summary>
public sealed class SharedPromoterTests(ITestOutputHelper output)
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    static readonly int[] Every = [.. Enumerable.Range(0, PartitionedDatabase.Partitions)];

    [Fact]
    public async Task When_one_of_two_promoters_is_killed_the_other_takes_its_partitions_and_every_job_is_decided_once_as_by_one_promoter()
    {
        // Given two Promoters of one group, each following a share of the partitions, and jobs in every partition halfway
        // through their soak, their signals so far passed by both
        await using var pipeline = await SharingPipeline.StartAsync(b => b.AddProjector(), output.WriteLine);
        var (first, second, jobs) = await HalfwayAsync(pipeline);

        // When the first is killed, and the jobs report the rest of their soak
        var killed = Stopwatch.StartNew();
        await first.KillAsync();
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);
        producer.Produce(jobs.SelectMany(job => SignalFactory.Minutes(job, 20, 20, "shadow", SignalFactory.Good)));

        // Then the second takes every partition (its tail follows them: an upper bound, as seen by polling), and each job is
        // promoted once, at the signal that completed its soak
        await Eventually.True(() => Task.FromResult(FollowedShare.Of(second).SequenceEqual(Every)), Timeout, "the second Promoter to take every partition");
        var takeover = killed.Elapsed;
        await DecidedOnceAsync(pipeline, jobs);
        output.WriteLine($"the killed Promoter's partitions were followed by the other {takeover.TotalSeconds:0.0} s after the kill (session timeout {SharingPipeline.SessionTimeout.TotalSeconds:0} s)");
        // The bound; on the mock cluster a session and then a session less 1 s for the others to rejoin.
        Assert.True(takeover <= TimeSpan.FromSeconds(15), $"the takeover took {takeover.TotalSeconds:0.0} s");
    }

    static readonly TimeSpan Paused = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_promoter_paused_for_30_s_and_resumed_writes_nothing_for_the_partitions_it_lost()
    {
        // Given two Promoters of one group, each following a share of the partitions, with jobs halfway through their soak
        await using var pipeline = await SharingPipeline.StartAsync(b => b.AddProjector(), output.WriteLine);
        var (first, second, jobs) = await HalfwayAsync(pipeline);
        var lost = FollowedShare.Of(first);

        // When the first is paused (SIGSTOP) for the 30 s, in which the second takes its partitions and decides
        // every job
        Signal(first, "STOP");
        var stopped = Stopwatch.StartNew();
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);
        producer.Produce(jobs.SelectMany(job => SignalFactory.Minutes(job, 20, 20, "shadow", SignalFactory.Good)));
        await Eventually.True(() => Task.FromResult(FollowedShare.Of(second).SequenceEqual(Every)), Timeout, "the second Promoter to take every partition");
        await DecidedOnceAsync(pipeline, jobs);
        // The pause's length is the fault injected, not a wait for a condition.
        if (Paused - stopped.Elapsed is { Ticks: > 0 } rest)
        {
            await Task.Delay(rest);
        }

        // And then resumed (SIGCONT), with more signals after the promotions
        Signal(first, "CONT");
        output.WriteLine($"the first Promoter was paused for {stopped.Elapsed.TotalSeconds:0.0} s");
        producer.Produce(jobs.SelectMany(job => SignalFactory.Minutes(job, 40, 5, "reverse_shadow", SignalFactory.Good)));

        // Then it gives up the partitions it lost and its group hands it a share again, while every job's decisions stay one
        await Eventually.True(() => Task.FromResult(first.Log.Contains("were lost", StringComparison.Ordinal) || first.Log.Contains("revoked partitions", StringComparison.Ordinal)),
            Timeout, "the resumed Promoter to give up the partitions it lost");
        var store = new StoreProbe(pipeline.Database);
        foreach (var job in jobs)
        {
            await Eventually.True(async () => await store.CountEventsAsync(job, SignalRecorded.EventType) >= SoakSignals + 5, Timeout, $"{job}'s {SoakSignals + 5} signals to be stored");
            await Eventually.True(() => store.HasProcessedAsync(DecisionFold.CheckpointName, job), Timeout, $"the Promoters to process {job}'s last signals");
            Assert.Equal(1, await store.CountEventsAsync(job, PhaseChanged.EventType));
        }
        Assert.NotEmpty(lost);
        Assert.DoesNotContain("[ERR]", first.Log, StringComparison.Ordinal);
    }

    // Two Promoters sharing the partitions, and 3 jobs in each partition 20 minutes into a 30-minute soak in shadow, passed by both.
    static async Task<(ServiceProcess First, ServiceProcess Second, List<string> Jobs)> HalfwayAsync(SharingPipeline pipeline)
    {
        var first = pipeline.StartOwner("Promoter", "promoter-1");
        var second = pipeline.StartOwner("Promoter", "promoter-2");
        await Eventually.True(() => Task.FromResult(Split(FollowedShare.Of(first), FollowedShare.Of(second))), Timeout, "the two Promoters to split the partitions");
        var jobs = Every.SelectMany(p => Enumerable.Range(0, 3).Select(_ => PartitionedDatabase.JobIn(p))).ToList();
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);
        producer.Produce(jobs.SelectMany(job => SignalFactory.Minutes(job, 0, 20, "shadow", SignalFactory.Good)));
        var store = new StoreProbe(pipeline.Database);
        foreach (var job in jobs)
        {
            await Eventually.True(() => store.HasProcessedAsync(DecisionFold.CheckpointName, job), Timeout, $"the Promoters to process {job}");
        }
        return (first, second, jobs);
    }

    // The signals each job has reported once it has soaked: minutes 0-19 before the fault, 20-39 after it.
    const int SoakSignals = 40;

    // What one Promoter stores for these jobs (PartitionedPromotionTests): one promotion each, decided at minute 30 by
    // the signal that completed the soak, and published.
    static async Task DecidedOnceAsync(SharingPipeline pipeline, IReadOnlyList<string> jobs)
    {
        var store = new StoreProbe(pipeline.Database);
        foreach (var job in jobs)
        {
            // Processed means up to the job's last stored event: the soak's last signals must be stored first.
            await Eventually.True(async () => await store.CountEventsAsync(job, SignalRecorded.EventType) >= SoakSignals, Timeout, $"{job}'s {SoakSignals} signals to be stored");
            await Eventually.True(() => store.HasProcessedAsync(DecisionFold.CheckpointName, job), Timeout, $"the Promoters to process {job}");
            await Eventually.True(() => store.HasProcessedAsync(PhaseChangeRelay.CheckpointName, job), Timeout, $"the relay to publish {job}");
            var decisions = await DecisionsAsync(pipeline, job);
            Assert.Equal([(EventIds.ForDecision(job, 31), SignalFactory.Start.AddMinutes(30))], decisions);
        }
    }

    /// <summary>The job's stored promotions and demotions: each one's event id and decision time, in order.</summary>
    internal static async Task<List<(Guid EventId, DateTimeOffset DecidedAt)>> DecisionsAsync(SharingPipeline pipeline, string job)
    {
        await using var command = pipeline.Database.CreateCommand(
            "select event_id, (data->>'decidedAt')::timestamptz from es.events where stream_id = $1 and type = $2 order by version");
        command.Parameters.Add(new Npgsql.NpgsqlParameter<string> { TypedValue = job });
        command.Parameters.Add(new Npgsql.NpgsqlParameter<string> { TypedValue = PhaseChanged.EventType });
        var decisions = new List<(Guid, DateTimeOffset)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            decisions.Add((reader.GetGuid(0), reader.GetFieldValue<DateTimeOffset>(1)));
        }
        return decisions;
    }

    static bool Split(IReadOnlySet<int> first, IReadOnlySet<int> second) =>
        first.Count > 0 && second.Count > 0 && first.Concat(second).Order().SequenceEqual(Every);

    static void Signal(ServiceProcess process, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", $"{process.Id}"]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }
}
