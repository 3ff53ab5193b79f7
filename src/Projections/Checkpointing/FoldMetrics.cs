using System.Diagnostics.Metrics;
using Streaming.Hosting.Telemetry;

namespace Streaming.Projections.Checkpointing;

/// <summary>The folds' bookkeeping commits (state and checkpoint saves), by fold, beside the tail's other metrics.</summary>
public static class FoldMetrics
{
    public const string CommitsName = "streaming.fold.commits";

    static readonly Counter<long> Commits = StreamingTelemetry.Meter.CreateCounter<long>(
        CommitsName, "{commit}", "Transactions a fold committed to save its state and checkpoint");

    internal static void Commit(string fold) => Commits.Add(1, new KeyValuePair<string, object?>("fold", fold));
}
