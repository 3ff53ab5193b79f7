using Streaming.Lifecycle;
using Xunit;

namespace Streaming.Tests.Lifecycle;

/// <summary>The lifecycle's arithmetic never leaves the range of event times, whatever time a stored signal carries.</summary>
public sealed class ExtremeTimeTests
{
    public static TheoryData<DateTimeOffset> Extremes => new()
    {
        DateTimeOffset.MinValue,
        new DateTimeOffset(1, 1, 1, 0, 5, 0, TimeSpan.Zero),
        new DateTimeOffset(1, 1, 2, 0, 0, 0, TimeSpan.FromHours(14)),
        DateTimeOffset.MaxValue,
        new DateTimeOffset(9999, 12, 31, 11, 0, 0, TimeSpan.FromHours(-12)),
    };

    [Theory]
    [MemberData(nameof(Extremes))]
    public void A_signal_at_either_end_of_time_is_evolved_decided_and_evaluated_without_error(DateTimeOffset at)
    {
        // Given a job of the default policy with an ordinary history, and one with none
        var policy = DefaultPolicies.CdcMigration;
        var ordinary = JobLifecycleDecider.Initial("ordinary");
        for (var minute = 0; minute < 40; minute++)
        {
            ordinary = JobLifecycleDecider.Evolve(ordinary, Sample(minute + 1, LifecycleSimulation.At(minute)), policy);
        }

        // When each receives a signal at the extreme time, then more signals
        foreach (var start in new[] { ordinary, JobLifecycleDecider.Initial("fresh") })
        {
            var state = JobLifecycleDecider.Evolve(start, Sample(start.LastVersion + 1, at), policy);
            _ = JobLifecycleDecider.Decide(state, policy);
            _ = JobLifecycleDecider.Evaluate(state, policy);
            state = JobLifecycleDecider.Evolve(state, Sample(start.LastVersion + 2, LifecycleSimulation.At(50)), policy);
            var decision = JobLifecycleDecider.Decide(state, policy);

            // Then nothing throws, and the job's event time is the latest it has seen
            Assert.Equal(at > LifecycleSimulation.At(50) ? at : LifecycleSimulation.At(50), state.LastSignalAt);
            if (decision is not null)
            {
                _ = JobLifecycleDecider.Apply(state, decision);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Extremes))]
    public void Waves_and_breakers_count_a_promotion_or_demotion_at_either_end_of_time_without_error(DateTimeOffset at)
    {
        var policy = PolicyDocument.Parse("""
            name: fleet
            phases: [a, b]
            gates:
              - from: a
                to: b
                soak: 0m
                promote:
                  window: 10m
                  criteria: [ { metric: error_rate, aggregation: max, comparison: "<=", threshold: 0.01 } ]
                demote:
                  window: 10m
                  criteria: [ { metric: error_rate, aggregation: last, comparison: "<=", threshold: 0.1 } ]
                wave: { maxInFlight: 1, maxPerHour: 5 }
                breaker: { maxDemotionShare: 0.25, window: 1h, minJobs: 1 }
            """, 1).Policy!;
        var gate = policy.GateFrom("a")!;
        var fleet = new FleetControl();
        var promotion = new PhaseDecision("job-1", "a", "b", PhaseDecision.Promote, at, 3, "fleet@1", "test", [], 1, 3, false);
        var demotion = promotion with { From = "b", To = "a", Direction = PhaseDecision.Demote };

        fleet.Admit(promotion, gate, policy, 0, [], out _);
        fleet.Demoted(demotion, gate, policy);
        fleet.Reset("fleet", "b", gate.Breaker, at, "test");
    }

    static SignalSample Sample(long version, DateTimeOffset at) => new(version, version, at, "shadow", JobMetrics.Healthy);
}
