namespace Streaming.Bench.MartenPeer;

/// <summary>
/// The Marten peer's figures in one bench run: appends alone, appends with the daemon keeping the raw-SQL projection
/// (end to end), the daemon's rebuild of it, and the same for the idiomatic <c>SingleStreamProjection</c> when measured.
/// </summary>
public sealed record MartenReport(
    MartenResult Appends,
    MartenResult EndToEnd,
    Measurement Rebuild,
    MartenResult? Aggregate,
    Measurement? AggregateRebuild)
{
    public IEnumerable<MartenResult> Runs => new[] { Appends, EndToEnd, Aggregate }.OfType<MartenResult>();
}
