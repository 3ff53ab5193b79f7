using Streaming.Lifecycle;
using Xunit;

namespace Streaming.Tests.Lifecycle;

public sealed class AggregationTests
{
    static LifecyclePolicy PolicyWith(Criterion criterion, int minSamples = 1, int windowMinutes = 60) =>
        TestPolicies.TwoPhases([criterion with { MinSamples = minSamples }], TimeSpan.FromMinutes(windowMinutes));

    /// <summary>Given one signal a minute carrying these values of <c>m</c> (null: the signal lacks it), the criterion's result.</summary>
    static CriterionResult Evaluate(Criterion criterion, double?[] values, int minSamples = 1, int windowMinutes = 60)
    {
        var policy = PolicyWith(criterion, minSamples, windowMinutes);
        var state = JobLifecycleDecider.Initial("job-1");
        for (var i = 0; i < values.Length; i++)
        {
            var metrics = values[i] is { } value ? JobMetrics.Of(("m", value)) : JobMetrics.Of(("other", 1));
            state = JobLifecycleDecider.Evolve(state, new SignalSample(i + 1, i + 1, LifecycleSimulation.At(i), "a", metrics), policy);
        }
        return Assert.Single(JobLifecycleDecider.Evaluate(state, policy).Criteria);
    }

    static Criterion AtMost(Aggregation aggregation, double threshold = 1_000_000) =>
        new("m", aggregation, Comparison.LessOrEqual, threshold);

    [Theory]
    [InlineData(Aggregation.Max, new double[] { 5, 1, 9, 3, 7 }, 9)]
    [InlineData(Aggregation.Min, new double[] { 5, 1, 9, 3, 7 }, 1)]
    [InlineData(Aggregation.Avg, new double[] { 5, 1, 9, 3, 7 }, 5)]
    [InlineData(Aggregation.Last, new double[] { 5, 1, 9, 3, 7 }, 7)]
    [InlineData(Aggregation.Sum, new double[] { 5, 1, 9, 3, 7 }, 25)]
    [InlineData(Aggregation.Count, new double[] { 5, 1, 9, 3, 7 }, 5)]
    [InlineData(Aggregation.P50, new double[] { 5, 1, 9, 3, 7 }, 5)]
    [InlineData(Aggregation.P95, new double[] { 5, 1, 9, 3, 7 }, 9)]
    [InlineData(Aggregation.P99, new double[] { 5, 1, 9, 3, 7 }, 9)]
    [InlineData(Aggregation.P50, new double[] { 4, 1, 3, 2 }, 2)]
    [InlineData(Aggregation.Max, new double[] { -3, -1, -2 }, -1)]
    [InlineData(Aggregation.Min, new double[] { 0.5 }, 0.5)]
    [InlineData(Aggregation.P99, new double[] { 42 }, 42)]
    public void Each_aggregation_reduces_the_window_to_one_value(Aggregation aggregation, double[] values, double expected)
    {
        // Given one signal a minute with these values; When the criterion is evaluated
        var result = Evaluate(AtMost(aggregation), values.Select(v => (double?)v).ToArray());

        // Then
        Assert.Equal(expected, result.Value);
        Assert.Equal(values.Length, result.Samples);
    }

    [Theory]
    [InlineData(Aggregation.P50, 20, 10)]
    [InlineData(Aggregation.P95, 20, 19)]
    [InlineData(Aggregation.P99, 20, 20)]
    [InlineData(Aggregation.P50, 100, 50)]
    [InlineData(Aggregation.P95, 100, 95)]
    [InlineData(Aggregation.P99, 100, 99)]
    [InlineData(Aggregation.P95, 7, 7)]
    [InlineData(Aggregation.P50, 7, 4)]
    public void Percentiles_take_the_nearest_rank_of_the_sorted_values(Aggregation aggregation, int count, double expected)
    {
        // Given the values count, count-1, …, 1 (descending, so sorting matters)
        var values = Enumerable.Range(1, count).Reverse().Select(v => (double?)v).ToArray();

        // When
        var result = Evaluate(AtMost(aggregation), values, windowMinutes: 600);

        // Then
        Assert.Equal(expected, result.Value);
    }

    [Theory]
    [InlineData(Aggregation.Count, 3)]
    [InlineData(Aggregation.Sum, 12)]
    [InlineData(Aggregation.Avg, 4)]
    [InlineData(Aggregation.Min, 2)]
    [InlineData(Aggregation.Last, 6)]
    [InlineData(Aggregation.P50, 4)]
    public void Signals_without_the_metric_do_not_count_toward_its_aggregation(Aggregation aggregation, double expected)
    {
        // Given five signals of which two lack the metric
        double?[] values = [2, null, 4, 6, null];

        // When
        var result = Evaluate(AtMost(aggregation), values);

        // Then
        Assert.Equal(expected, result.Value);
        Assert.Equal(3, result.Samples);
    }

    [Theory]
    [InlineData(Aggregation.Max, null)]
    [InlineData(Aggregation.Avg, null)]
    [InlineData(Aggregation.P95, null)]
    [InlineData(Aggregation.Count, 0.0)]
    [InlineData(Aggregation.Sum, 0.0)]
    public void A_metric_nobody_reported_has_no_value_and_does_not_pass(Aggregation aggregation, double? expected)
    {
        // Given signals that never carry the metric
        var result = Evaluate(AtMost(aggregation), [null, null, null]);

        // Then
        Assert.Equal(expected, result.Value);
        Assert.Equal(0, result.Samples);
        Assert.False(result.Passed);
    }

    [Theory]
    [InlineData(Comparison.LessOrEqual, 4, true)]
    [InlineData(Comparison.LessOrEqual, 5, true)]
    [InlineData(Comparison.LessOrEqual, 6, false)]
    [InlineData(Comparison.Less, 4, true)]
    [InlineData(Comparison.Less, 5, false)]
    [InlineData(Comparison.Less, 6, false)]
    [InlineData(Comparison.GreaterOrEqual, 4, false)]
    [InlineData(Comparison.GreaterOrEqual, 5, true)]
    [InlineData(Comparison.GreaterOrEqual, 6, true)]
    [InlineData(Comparison.Greater, 4, false)]
    [InlineData(Comparison.Greater, 5, false)]
    [InlineData(Comparison.Greater, 6, true)]
    public void Each_comparison_checks_the_value_against_the_threshold(Comparison comparison, double value, bool passes)
    {
        // Given a criterion "max m <comparison> 5" and a window whose max is the value
        var criterion = new Criterion("m", Aggregation.Max, comparison, 5);

        // When
        var result = Evaluate(criterion, [value - 10, value]);

        // Then
        Assert.Equal(passes, criterion.Holds(value));
        Assert.Equal(passes, result.Passed);
        Assert.Equal(value, result.Value);
    }

    [Theory]
    [InlineData(4, false)]
    [InlineData(5, true)]
    [InlineData(6, true)]
    public void A_criterion_with_fewer_values_than_min_samples_does_not_pass(int signals, bool passes)
    {
        // Given a criterion that holds for every value, needing 5 samples
        var values = Enumerable.Repeat((double?)1, signals).ToArray();

        // When
        var result = Evaluate(AtMost(Aggregation.Max), values, minSamples: 5);

        // Then
        Assert.Equal(passes, result.Passed);
        Assert.Equal(1, result.Value);
    }

    [Fact]
    public void Only_signals_inside_the_trailing_window_count()
    {
        // Given 20 signals a minute apart (values 0…19) and a 10-minute window
        var values = Enumerable.Range(0, 20).Select(v => (double?)v).ToArray();

        // When the window ends at minute 19: (minute 9, minute 19]
        var count = Evaluate(AtMost(Aggregation.Count), values, windowMinutes: 10);
        var min = Evaluate(AtMost(Aggregation.Min), values, windowMinutes: 10);

        // Then the signal exactly 10 minutes old is out
        Assert.Equal(10, count.Value);
        Assert.Equal(10, min.Value);
    }
}
