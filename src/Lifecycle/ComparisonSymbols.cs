namespace Streaming.Lifecycle;

/// <summary>How comparisons read in policy documents and decision reasons.</summary>
public static class ComparisonSymbols
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

    /// <summary>The comparison as policy documents (and the wire contract) write it, the inverse of <see cref="TryParse"/>.</summary>
    public static string PolicyText(this Comparison comparison) => comparison switch
    {
        Comparison.LessOrEqual => "<=",
        Comparison.Less => "<",
        Comparison.GreaterOrEqual => ">=",
        Comparison.Greater => ">",
        _ => throw new InvalidOperationException($"unknown comparison {comparison}"),
    };

    /// <summary>A comparison as policy documents write it: <c>&lt;=</c>, <c>&lt;</c>, <c>&gt;=</c>, <c>&gt;</c>.</summary>
    public static bool TryParse(string? text, out Comparison comparison)
    {
        (var known, comparison) = text switch
        {
            "<=" => (true, Comparison.LessOrEqual),
            "<" => (true, Comparison.Less),
            ">=" => (true, Comparison.GreaterOrEqual),
            ">" => (true, Comparison.Greater),
            _ => (false, default(Comparison)),
        };
        return known;
    }
}
