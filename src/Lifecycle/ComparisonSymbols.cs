namespace Streaming.Lifecycle;

/// <summary>How comparisons read in decision reasons.</summary>
static class ComparisonSymbols
{
    /// <summary>The comparison as a symbol: what holds when it passes.</summary>
    public static string Symbol(this Comparison comparison) => comparison switch
    {
        Comparison.LessOrEqual => "≤",
        Comparison.Less => "<",
        Comparison.GreaterOrEqual => "≥",
        Comparison.Greater => ">",
        _ => throw new InvalidOperationException($"unknown comparison {comparison}"),
    };

    /// <summary>The opposite symbol: what holds when it fails.</summary>
    public static string BrokenSymbol(this Comparison comparison) => comparison switch
    {
        Comparison.LessOrEqual => ">",
        Comparison.Less => "≥",
        Comparison.GreaterOrEqual => "<",
        Comparison.Greater => "≤",
        _ => throw new InvalidOperationException($"unknown comparison {comparison}"),
    };
}
