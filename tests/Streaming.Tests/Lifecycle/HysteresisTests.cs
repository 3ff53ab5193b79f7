using Streaming.Lifecycle;
using Xunit;

namespace Streaming.Tests.Lifecycle;

/// <summary>Consecutive evaluations, separate promote and demote thresholds, and what missing data means, on a→b policies.</summary>
public sealed class HysteresisTests
{
    static readonly IReadOnlyDictionary<string, double> Quiet = JobMetrics.Of(("other", 1));

    static IReadOnlyDictionary<string, double> Errors(double rate) => JobMetrics.Of(("error_rate", rate));

    /// <summary>Promote when max error_rate ≤ 0.01 over 10 minutes; demote from b when the last error_rate > 0.05.</summary>
    static LifecyclePolicy Policy(int promoteAfter = 1, int demoteAfter = 1, MissingData promoteMissing = MissingData.Hold,
        MissingData demoteMissing = MissingData.Hold, int minSamples = 1) =>
        TestPolicies.TwoPhases(
            [new Criterion("error_rate", Aggregation.Max, Comparison.LessOrEqual, 0.01, minSamples, promoteMissing)],
            TimeSpan.FromMinutes(10),
            promoteAfter: promoteAfter,
            demote: new GateRule(TimeSpan.FromMinutes(10), demoteAfter,
                [new Criterion("error_rate", Aggregation.Last, Comparison.LessOrEqual, 0.05, 1, demoteMissing)]));

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 3)]
    [InlineData(5, 5)]
    public void Promotion_waits_for_that_many_passing_evaluations_in_a_row(int after, int promotedAtSignal)
    {
        var job = new LifecycleSimulation("a", Policy(promoteAfter: after));

        var decisions = job.Minutes(1, 10, Errors(0));

        Assert.Equal(LifecycleSimulation.At(promotedAtSignal), Assert.Single(decisions).DecidedAt);
    }

    [Fact]
    public void A_failing_evaluation_restarts_the_count_of_passing_ones()
    {
        var job = new LifecycleSimulation("a", Policy(promoteAfter: 3));
        job.Minutes(1, 2, Errors(0));

        // A bad value at minute 3 stays in the 10-minute window until minute 13: every evaluation before then fails
        job.Signal(3, Errors(0.02));
        Assert.Equal(0, job.State.PromotionStreak);
        Assert.Empty(job.Minutes(4, 12, Errors(0)));

        // At minute 13 the window (3, 13] is clean again: 13, 14, 15 are three passes in a row
        Assert.Empty(job.Minutes(13, 14, Errors(0)));
        Assert.Equal(LifecycleSimulation.At(15), job.Signal(15, Errors(0))?.DecidedAt);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(4, 4)]
    public void Demotion_waits_for_that_many_failing_evaluations_in_a_row(int after, int badSignals)
    {
        var job = new LifecycleSimulation("b", Policy(demoteAfter: after));
        job.Minutes(0, 4, Errors(0));

        Assert.Empty(job.Minutes(5, 3 + badSignals, Errors(0.2)));
        var decision = job.Signal(4 + badSignals, Errors(0.2));

        Assert.Equal(("b", "a", PhaseDecision.Demote), (decision?.From, decision?.To, decision?.Direction));
        Assert.StartsWith($"demote b→a: {after} consecutive evaluations failed", decision!.Reason, StringComparison.Ordinal);
        Assert.Equal(Verdict.Fail, Assert.Single(decision.Criteria).Verdict);
    }

    [Theory]
    [InlineData(0.005, true, false)]
    [InlineData(0.03, false, false)]
    [InlineData(0.2, false, true)]
    public void Between_the_promote_and_the_demote_threshold_a_job_stays_where_it_is(double errorRate, bool promotedFromA, bool demotedFromB)
    {
        var inA = new LifecycleSimulation("a", Policy(promoteAfter: 3, demoteAfter: 3));
        var inB = new LifecycleSimulation("b", Policy(promoteAfter: 3, demoteAfter: 3));

        inA.Minutes(0, 30, Errors(errorRate));
        inB.Minutes(0, 30, Errors(errorRate));

        Assert.Equal(promotedFromA, inA.Decisions.Any(d => d.Direction == PhaseDecision.Promote));
        Assert.Equal(demotedFromB, inB.Decisions.Any(d => d.Direction == PhaseDecision.Demote));
    }

    [Theory]
    [InlineData(MissingData.Hold, 0, false)]
    [InlineData(MissingData.Hold, 2, false)]
    [InlineData(MissingData.Hold, 3, true)]
    [InlineData(MissingData.Fail, 0, false)]
    [InlineData(MissingData.Fail, 2, false)]
    [InlineData(MissingData.Ignore, 0, true)]
    public void Too_few_samples_of_a_metric_mean_what_the_criterion_says(MissingData missing, int samplesWithMetric, bool promoted)
    {
        // Given a criterion that needs 3 samples of error_rate in its 10-minute window
        var job = new LifecycleSimulation("a", Policy(promoteMissing: missing, minSamples: 3));

        // When the job signals 6 times within the window, this many of them with the metric
        job.Minutes(1, samplesWithMetric, Errors(0));
        job.Minutes(samplesWithMetric + 1, 6, Quiet);

        // Then hold gives no verdict (no promotion on no data), fail fails, and ignore leaves the criterion out
        Assert.Equal(promoted, job.Decisions.Count == 1);
    }

    [Theory]
    [InlineData(MissingData.Hold, 2)]
    [InlineData(MissingData.Fail, 0)]
    public void Missing_data_that_holds_keeps_the_streak_and_missing_data_that_fails_ends_it(MissingData missing, int streak)
    {
        // Given a job with two passing evaluations of the three it needs
        var job = new LifecycleSimulation("a", Policy(promoteAfter: 3, promoteMissing: missing));
        job.Minutes(1, 2, Errors(0));
        Assert.Equal(2, job.State.PromotionStreak);

        // When its next signals, from minute 15 on, lack the metric (the 10-minute window has none of it left)
        job.Minutes(15, 20, Quiet);

        // Then
        Assert.Equal(streak, job.State.PromotionStreak);
        Assert.Equal(missing == MissingData.Hold ? Verdict.NoData : Verdict.Fail, job.State.LastPromotionVerdict);
        Assert.Empty(job.Decisions);
    }

    [Theory]
    [InlineData(MissingData.Hold, false)]
    [InlineData(MissingData.Ignore, false)]
    [InlineData(MissingData.Fail, true)]
    public void A_quiet_job_is_demoted_for_no_data_only_when_the_policy_says_so(MissingData missing, bool demoted)
    {
        var job = new LifecycleSimulation("b", Policy(demoteAfter: 3, demoteMissing: missing));
        job.Minutes(0, 4, Errors(0));

        job.Minutes(5, 30, Quiet);

        Assert.Equal(demoted, job.Decisions.Any(d => d.Direction == PhaseDecision.Demote));
    }

    [Fact]
    public void Each_criterion_of_a_decision_records_its_value_threshold_and_verdict()
    {
        var policy = TestPolicies.TwoPhases(
            [
                new Criterion("error_rate", Aggregation.Max, Comparison.LessOrEqual, 0.01),
                new Criterion("lag", Aggregation.P95, Comparison.Less, 100, 5, MissingData.Ignore),
            ],
            TimeSpan.FromMinutes(10));
        var job = new LifecycleSimulation("a", policy);

        var decision = job.Signal(1, JobMetrics.Of(("error_rate", 0.004)));

        Assert.NotNull(decision);
        Assert.Equal(
            [
                new CriterionResult("error_rate", Aggregation.Max, Comparison.LessOrEqual, 0.01, 0.004, 1, Verdict.Pass),
                new CriterionResult("lag", Aggregation.P95, Comparison.Less, 100, null, 0, Verdict.Ignored),
            ],
            decision.Criteria);
        Assert.Equal((1L, 1L, "test@1"), (decision.FirstVersion, decision.LastVersion, decision.Policy));
        Assert.Contains("p95 lag: 0 samples in 10m, too few (ignored)", decision.Reason, StringComparison.Ordinal);
    }
}
