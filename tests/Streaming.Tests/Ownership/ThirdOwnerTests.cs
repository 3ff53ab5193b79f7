using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Projector;
using Streaming.Projector.Rebuilding;
using Streaming.Promoter;
using Streaming.Promoter.Decisions;
using Streaming.Promoter.Publishing;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Streaming.Tests.Ownership;

/// <summary>
/// A third instance of a role joins two mid-stream, signals flowing steadily (issue 22: "about a third of the
/// partitions move; the others never pause more than 1 s"): the partitions the two give up are the ones it takes, and
/// the partitions that stay where they were go on being saved, each save timed by the store.
/// </summary>
public sealed partial class ThirdOwnerTests(ITestOutputHelper output)
{
    const int Partitions = 6;
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(1);
    static readonly int[] Every = [.. Enumerable.Range(0, Partitions)];
    static readonly LogPartitioner Partitioner = new(Partitions, ControlStreamPrefixes.All);

    [Fact]
    public async Task A_third_projector_joining_mid_stream_takes_a_third_of_the_partitions_and_the_others_never_pause_a_second()
    {
        // Given two Projectors sharing six partitions, writing their job states about every 50 ms, and two jobs a
        // partition signalling steadily
        await using var pipeline = await SharingPipeline.StartAsync(b => b.AddPromoter(), output.WriteLine, Partitions);
        var jobs = Jobs();
        var settings = new Dictionary<string, string> { ["Projector__StateWriteInterval"] = "00:00:00.05" };

        // When a third joins, and the signals go on until every partition was saved again a few times
        var (moved, gaps, steady, rounds) = await JoinMidStreamAsync(pipeline, "Projector", "projector:job-states:g1", settings, jobs);

        // Then the partitions that stayed never paused a second, and every job's state is the one a rebuild makes of the log
        AssertPausedLittle(moved, gaps, steady);
        var store = new StoreProbe(pipeline.Database);
        foreach (var job in jobs)
        {
            await Eventually.Get(() => store.LastSeqAsync(job), s => s == rounds, Timeout, $"the projection of {job}'s signal {rounds}");
        }
        var rebuilt = await new JobStateRebuild(pipeline.Database, NullLogger.Instance).RunAsync(fresh: true, null, CancellationToken.None);
        Assert.Equal(2, rebuilt.Generation);
        Assert.Equal(0L, await store.DifferingJobStatesAsync(1, 2));
    }

    [Fact]
    public async Task A_third_promoter_joining_mid_stream_takes_a_third_of_the_partitions_and_the_others_never_pause_a_second()
    {
        // Given two Promoters sharing six partitions, writing their job states about every 50 ms (at most every 300 ms),
        // and two jobs a partition signalling steadily in shadow
        await using var pipeline = await SharingPipeline.StartAsync(b => b.AddProjector(), output.WriteLine, Partitions);
        var jobs = Jobs();
        var settings = new Dictionary<string, string> { ["Promoter__StateWriteInterval"] = "00:00:00.05" };

        // When a third joins, and the signals go on until every partition was saved again a few times
        var (moved, gaps, steady, rounds) = await JoinMidStreamAsync(pipeline, "Promoter", DecisionFold.CheckpointName, settings, jobs);

        // Then the partitions that stayed never paused a second
        AssertPausedLittle(moved, gaps, steady);

        // And, once each job has signalled from the next whole minute to minute 40, it is promoted once, by its signal
        // of minute 30 (its soak began at its first signal), and published: what one Promoter decides
        var resumeAt = (int)Math.Ceiling((SteadySignals.EventTimeStep * rounds).TotalMinutes);
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);
        producer.Produce(jobs.SelectMany(job => Enumerable.Range(resumeAt, 41 - resumeAt).Select(m =>
            SignalFactory.Signal(job, rounds + 1 + m - resumeAt, SignalFactory.Start.AddMinutes(m), "shadow", SignalFactory.Good))));
        var store = new StoreProbe(pipeline.Database);
        var decidingVersion = rounds + 1 + 30 - resumeAt;
        var signalled = rounds + 41 - resumeAt;
        foreach (var job in jobs)
        {
            // Processed means up to the job's last stored event: its last signals must be stored first.
            await Eventually.True(async () => await store.CountEventsAsync(job, SignalRecorded.EventType) >= signalled, Timeout, $"{job}'s {signalled} signals to be stored");
            await Eventually.True(() => store.HasProcessedAsync(DecisionFold.CheckpointName, job), Timeout, $"the Promoters to process {job}");
            await Eventually.True(() => store.HasProcessedAsync(PhaseChangeRelay.CheckpointName, job), Timeout, $"the relay to publish {job}");
            Assert.Equal([(EventIds.ForDecision(job, decidingVersion), SignalFactory.Start.AddMinutes(30))], await SharedPromoterTests.DecisionsAsync(pipeline, job));
        }
    }

    // Two instances of the role split the partitions; the jobs signal steadily; the third joins. Returns the partitions it
    // took (the ones the two gave up), each partition's longest time without a save from its join until every partition
    // was saved a few times after the group settled, the longest in a steady stretch before the join, and the rounds of
    // signals sent. The two that gave partitions up must each say they went on over the rest within a second of stopping.
    async Task<(IReadOnlySet<int> Moved, IReadOnlyDictionary<int, TimeSpan> Gaps, TimeSpan Steady, int Rounds)> JoinMidStreamAsync(
        SharingPipeline pipeline, string role, string checkpoint, IReadOnlyDictionary<string, string> settings, IReadOnlyList<string> jobs)
    {
        var first = pipeline.StartOwner(role, $"{role}-1", settings);
        var second = pipeline.StartOwner(role, $"{role}-2", settings);
        await Eventually.True(() => Task.FromResult(Shared(first, second)), Timeout, $"the two {role}s to split the partitions");
        await using var progress = new CheckpointProgress(pipeline.Database, checkpoint);
        await using var signals = new SteadySignals(pipeline.Kafka.BootstrapServers, jobs);
        var warm = await progress.NowAsync();
        await Eventually.True(() => Task.FromResult(Every.All(p => progress.MovesAfter(p, warm) >= 10)), Timeout, "every partition to be saved a few times");
        var steady = await progress.NowAsync();
        await Eventually.True(() => Task.FromResult(Every.All(p => progress.MovesAfter(p, steady) >= 10)), Timeout, "every partition to be saved a few times more");

        var joinedAt = await progress.NowAsync();
        var (firstSince, secondSince) = (first.Log.Length, second.Log.Length);
        var third = pipeline.StartOwner(role, $"{role}-3", settings);
        await Eventually.True(() => Task.FromResult(Shared(first, second, third)), Timeout, $"the three {role}s to split the partitions");
        var settledAt = await progress.NowAsync();
        await Eventually.True(() => Task.FromResult(Every.All(p => progress.MovesAfter(p, settledAt) >= 5)), Timeout, "every partition to be saved a few times after the move");
        var until = await progress.NowAsync();
        var rounds = await signals.StopAsync();

        var moved = FollowedShare.Of(third);
        var revoked = Revoked(first.Log[firstSince..]).Concat(Revoked(second.Log[secondSince..])).Order().ToList();
        Assert.Equal(moved.Order(), revoked);
        Assert.Equal(Partitions / 3, moved.Count);
        var gaps = Every.ToDictionary(p => p, p => progress.LongestGap(p, joinedAt, until));
        var before = Every.Max(p => progress.LongestGap(p, steady, joinedAt));
        var resumed = Resumed(first.Log[firstSince..]).Concat(Resumed(second.Log[secondSince..])).ToList();
        output.WriteLine($"{role}: the third took partitions {string.Join(",", moved)} ({(settledAt - joinedAt).TotalSeconds:0.0} s after it started); " +
            "longest time without a save from its start until every partition was saved 5 times after: " +
            string.Join(", ", Every.Select(p => $"{p}{(moved.Contains(p) ? " (moved)" : "")} {gaps[p].TotalMilliseconds:0} ms")) +
            $"; in a steady stretch before it (10 saves of each partition), at most {before.TotalMilliseconds:0} ms; " +
            $"the two that gave partitions up resumed those they kept {string.Join(" and ", resumed.Select(r => $"{r.TotalMilliseconds:0} ms"))} after their runs stopped");
        Assert.NotEmpty(resumed);
        Assert.All(resumed, r => Assert.True(r < LongestPause, $"the partitions kept resumed {r.TotalMilliseconds:0} ms after the run stopped"));
        foreach (var owner in new[] { first, second, third })
        {
            Assert.DoesNotContain("[ERR]", owner.Log, StringComparison.Ordinal);
        }
        return (moved, gaps, before, rounds);
    }

    // Every partition that stayed went without a save for less than 1 s beyond the longer of the steady stretch's longest
    // wait (the save cadence, at most 300 ms by the settings, and what the machine's load adds to it: 0.5-0.9 s on this
    // 2-core one at a load of 16-42) and the longest wait of a partition that moved (which stops from its old owner's stop
    // to its new owner's first save). A stall of the whole machine (the third's start-up takes both cores; one clean-clone
    // CI run saw every partition of one owner, moved or not, wait 4.9 s) holds up every partition alike, so it shows in
    // the partitions that moved as much as in those that stayed. The pause itself, from the stop to the kept partitions
    // running again, is asserted apart, from the owners' own logs.
    static void AssertPausedLittle(IReadOnlySet<int> moved, IReadOnlyDictionary<int, TimeSpan> gaps, TimeSpan steady)
    {
        var longest = Every.Except(moved).Max(p => gaps[p]);
        var longestMoved = moved.Max(p => gaps[p]);
        Assert.True(longest < LongestPause + (steady > longestMoved ? steady : longestMoved),
            $"a partition that did not move went {longest.TotalMilliseconds:0} ms without a save (the steady stretch before, {steady.TotalMilliseconds:0} ms; a partition that moved, {longestMoved.TotalMilliseconds:0} ms)");
    }

    static List<string> Jobs() => [.. Every.SelectMany(p => Enumerable.Range(0, 2).Select(_ => PartitionedDatabase.JobIn(Partitioner, p)))];

    // Each owner follows a share, together they follow every partition once, and the shares are as even as the group's
    // assignor leaves them: a cooperative rebalance moves partitions in rounds, and between two of them the shares may
    // cover every partition once unevenly (1, 2 and 3 of 6, one more still to move; a clean-clone CI run saw it).
    static bool Shared(params ServiceProcess[] owners)
    {
        var shares = owners.Select(FollowedShare.Of).ToList();
        return shares.All(s => s.Count > 0) && shares.Max(s => s.Count) - shares.Min(s => s.Count) <= 1
            && shares.SelectMany(s => s).Order().SequenceEqual(Every);
    }

    // How long after its run stopped for a change of share an owner's tail went on over the partitions it kept.
    static IEnumerable<TimeSpan> Resumed(string log) =>
        Resuming().Matches(log).Select(m => TimeSpan.FromMilliseconds(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)));

    static IEnumerable<int> Revoked(string log) =>
        GivenUp().Matches(log).SelectMany(m => (m.Groups[1].Success ? m.Groups[1] : m.Groups[2]).Value.Split(',').Select(int.Parse));

    [GeneratedRegex(@"the tail resumed partitions [0-9,]+, which it kept, ([0-9]+) ms after")]
    private static partial Regex Resuming();

    [GeneratedRegex(@"revoked partitions ([0-9,]+)|partitions ([0-9,]+) were lost")]
    private static partial Regex GivenUp();
}
