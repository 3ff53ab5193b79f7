using Streaming.Lifecycle;

namespace Streaming.Tests.Lifecycle;

public sealed class MetricValuesTests
{
    [Fact]
    public void Signals_with_the_same_metric_names_share_one_name_array_and_keep_their_own_values()
    {
        var first = MetricValues.From(new Dictionary<string, double> { ["error_rate"] = 0.01, ["landing_latency_p95_ms"] = 900 });
        var second = MetricValues.From(new Dictionary<string, double> { ["error_rate"] = 0.02, ["landing_latency_p95_ms"] = 700 });

        Assert.Same(first.Keys, second.Keys);
        Assert.Equal(0.01, first["error_rate"]);
        Assert.Equal(0.02, second["error_rate"]);
        Assert.Equal(700, second["landing_latency_p95_ms"]);
    }

    [Fact]
    public void Different_names_or_orders_are_not_shared()
    {
        var both = MetricValues.From(new Dictionary<string, double> { ["error_rate"] = 0, ["checksum_mismatch_rate"] = 0 });
        var reversed = MetricValues.From(new Dictionary<string, double> { ["checksum_mismatch_rate"] = 1, ["error_rate"] = 2 });
        var one = MetricValues.From(new Dictionary<string, double> { ["error_rate"] = 3 });

        Assert.NotSame(both.Keys, reversed.Keys);
        Assert.Equal(["checksum_mismatch_rate", "error_rate"], reversed.Keys);
        Assert.Equal(1, reversed["checksum_mismatch_rate"]);
        Assert.Equal(["error_rate"], one.Keys);
        Assert.Equal(3, one["error_rate"]);
    }
}
