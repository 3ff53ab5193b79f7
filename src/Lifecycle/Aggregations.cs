namespace Streaming.Lifecycle;

/// <summary>The names aggregations have in policy documents, reasons and stored events.</summary>
public static class Aggregations
{
    public static string Name(Aggregation aggregation) => aggregation switch
    {
        Aggregation.Max => "max",
        Aggregation.Min => "min",
        Aggregation.Avg => "avg",
        Aggregation.Last => "last",
        Aggregation.Sum => "sum",
        Aggregation.Count => "count",
        Aggregation.P50 => "p50",
        Aggregation.P95 => "p95",
        Aggregation.P99 => "p99",
        _ => throw new InvalidOperationException($"unknown aggregation {aggregation}"),
    };

    public static bool TryParse(string? name, out Aggregation aggregation)
    {
        foreach (var candidate in Enum.GetValues<Aggregation>())
        {
            if (string.Equals(Name(candidate), name, StringComparison.OrdinalIgnoreCase))
            {
                aggregation = candidate;
                return true;
            }
        }
        aggregation = default;
        return false;
    }

    public static string Known => string.Join(", ", Enum.GetValues<Aggregation>().Select(Name));
}
