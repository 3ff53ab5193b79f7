namespace Streaming.Lifecycle;

/// <summary>How a criterion reduces a metric's values over its window to one number.</summary>
public enum Aggregation
{
    Max,
    Min,
    Avg,
    Last,
    Sum,
    Count,
    P50,
    P95,
    P99,
}
