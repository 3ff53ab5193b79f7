using System.Globalization;
using System.Text.Json;
using Streaming.Lifecycle;
using Xunit;

namespace Streaming.Tests.Lifecycle;

public sealed class DeterminismTests
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// A day of a job that has good and bad spells, sometimes late with its acknowledgements, sometimes silent, and
    /// sometimes sends a metric-less or out-of-order signal: a history with promotions and demotions in it.
    /// </summary>
    static LifecycleSimulation TurbulentDay()
    {
        var job = new LifecycleSimulation("shadow") { AckDelay = TimeSpan.FromMinutes(3) };
        for (var minute = 0; minute < 24 * 60; minute++)
        {
            var spell = minute / 45 % 5;
            if (spell == 4 && minute % 3 != 0)
            {
                continue;
            }
            var metrics = spell switch
            {
                1 => JobMetrics.Healthy.With(JobMetrics.ErrorRate, minute % 20 < 3 ? 0.03 : 0.004),
                2 => JobMetrics.Healthy.With(JobMetrics.LandingLatencyP95Ms, 1000 + minute % 11 * 100),
                3 when minute % 13 == 0 => JobMetrics.Healthy.Without(JobMetrics.ChecksumMismatchRate),
                _ => JobMetrics.Healthy.With(JobMetrics.ChecksumMismatchRate, minute % 17 * 0.00004),
            };
            job.Signal(minute % 29 == 0 ? minute - 1.5 : minute, metrics);
        }
        return job;
    }

    static string Render(IEnumerable<PhaseDecision> decisions) => string.Join('\n', decisions.Select(d =>
        string.Create(CultureInfo.InvariantCulture,
            $"{d.JobId} {d.From}->{d.To} {d.Direction} at {d.DecidedAt:O} v{d.DecidingVersion} [{d.FirstVersion}..{d.LastVersion}] {d.Policy} {d.Reason} | ")
        + string.Join(", ", d.Criteria)));

    [Fact]
    public void The_turbulent_day_has_promotions_and_demotions()
    {
        var decisions = TurbulentDay().Decisions;

        Assert.Contains(decisions, d => d.Direction == PhaseDecision.Promote);
        Assert.Contains(decisions, d => d.Direction == PhaseDecision.Demote);
    }

    [Fact]
    public void The_same_history_twice_gives_identical_decisions()
    {
        // Given the signals of a turbulent day, as recorded live
        var live = TurbulentDay();

        // When they are run again, twice
        var first = LifecycleSimulation.Run(live.Samples);
        var second = LifecycleSimulation.Run(live.Samples);

        // Then the decisions are the same, to the last value and word
        Assert.Equal(Render(live.Decisions), Render(first));
        Assert.Equal(Render(first), Render(second));
    }

    [Fact]
    public void Replaying_the_log_with_its_recorded_decisions_rebuilds_the_live_state()
    {
        // Given a turbulent day decided live
        var live = TurbulentDay();
        var decisionsBySignal = live.Decisions.ToDictionary(d => d.DecidingVersion);

        // When the log is replayed: signals evolved, recorded decisions applied, nothing decided
        var policy = DefaultPolicies.CdcMigration;
        var state = JobLifecycleDecider.Initial("job-1");
        foreach (var sample in live.Samples)
        {
            state = JobLifecycleDecider.Evolve(state, sample, policy);
            if (decisionsBySignal.TryGetValue(sample.Version, out var decision))
            {
                state = JobLifecycleDecider.Apply(state, decision);
            }
        }

        // Then the state is the live one
        Assert.Equal(JsonSerializer.Serialize(live.State, Json), JsonSerializer.Serialize(state, Json));
    }

    [Fact]
    public void A_state_saved_as_a_snapshot_mid_history_decides_like_one_that_never_left_memory()
    {
        // Given the signals of a turbulent day, and the point halfway through it
        var live = TurbulentDay();
        var policy = DefaultPolicies.CdcMigration;
        var half = live.Samples.Count / 2;
        var state = JobLifecycleDecider.Initial("job-1");
        var decisions = new List<PhaseDecision>();

        // When the state is saved and loaded (as the Promoter does between batches) at half time
        for (var i = 0; i < live.Samples.Count; i++)
        {
            if (i == half)
            {
                state = JobLifecycleSnapshot.Read(JobLifecycleSnapshot.Write(state));
            }
            state = JobLifecycleDecider.Evolve(state, live.Samples[i], policy);
            if (JobLifecycleDecider.Decide(state, policy) is { } decision)
            {
                decisions.Add(decision);
                state = JobLifecycleDecider.Apply(state, decision);
            }
        }

        // Then the decisions are the live ones
        Assert.Equal(Render(live.Decisions), Render(decisions));
    }

    [Fact]
    public void A_snapshot_reads_back_as_the_state_it_was_written_from_at_every_point_of_a_turbulent_day()
    {
        // Given the signals of a turbulent day (late acknowledgements, missing metrics, out-of-order signals, decisions)
        var live = TurbulentDay();
        var policy = DefaultPolicies.CdcMigration;
        var state = JobLifecycleDecider.Initial("job-1");
        var compared = 0;

        // When every intermediate state is written as a snapshot and read back
        foreach (var sample in live.Samples)
        {
            state = JobLifecycleDecider.Evolve(state, sample, policy);
            if (JobLifecycleDecider.Decide(state, policy) is { } decision)
            {
                state = JobLifecycleDecider.Apply(state, decision);
            }
            var restored = JobLifecycleSnapshot.Read(JobLifecycleSnapshot.Write(state));

            // Then it is the same state, field by field, window and metrics included
            Assert.Equal(JsonSerializer.Serialize(state, Json), JsonSerializer.Serialize(restored, Json));
            Assert.Equal(state.Window.Length, restored.Window.Length);
            compared++;
        }
        Assert.True(live.Decisions.Count > 2 && compared == live.Samples.Count);
    }

    [Fact]
    public void A_snapshot_is_the_same_bytes_whatever_was_written_before_it_on_the_thread()
    {
        // Given a day's state, written first on its own
        var day = TurbulentDay().State;
        var alone = JobLifecycleSnapshot.Write(day);

        // When a state with another job's metrics and a window of thousands of samples (a buffer past what a thread keeps) is written between
        var metrics = MetricValues.From(new Dictionary<string, double> { ["queue_depth"] = 7, ["lag_ms"] = 2.5 });
        var start = new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
        var busy = JobLifecycleDecider.Initial("busy-job") with
        {
            LatestMetrics = metrics,
            Window = WindowSamples.Of([.. Enumerable.Range(0, 3_000).Select(i => new WindowSample(i + 1, start.AddSeconds(i), metrics))]),
        };
        var large = JobLifecycleSnapshot.Write(busy);
        var again = JobLifecycleSnapshot.Write(day);

        // Then the day's snapshot is byte for byte what it was, and the large one reads back whole
        Assert.True(large.Length > 64 * 1024);
        Assert.Equal(alone, again);
        Assert.Equal(3_000, JobLifecycleSnapshot.Read(large).Window.Length);
    }

    [Fact]
    public void A_snapshot_of_another_format_is_refused_with_a_clear_error()
    {
        var snapshot = JobLifecycleSnapshot.Write(JobLifecycleDecider.Initial("job-1"));
        snapshot[0] = 99;

        var error = Assert.Throws<InvalidDataException>(() => JobLifecycleSnapshot.Read(snapshot));
        Assert.Contains("format 99", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_damaged_snapshot_is_refused_with_a_clear_error()
    {
        var snapshot = JobLifecycleSnapshot.Write(TurbulentDay().State);

        var error = Assert.Throws<InvalidDataException>(() => JobLifecycleSnapshot.Read(snapshot[..(snapshot.Length / 2)]));

        Assert.Contains("damaged", error.Message, StringComparison.Ordinal);
    }
}
