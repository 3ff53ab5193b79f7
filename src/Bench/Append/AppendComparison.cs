namespace Streaming.Bench.Append;

/// <summary>Per-batch times of Ingest's append and of a COPY of the same rows, and of appending batches again (all duplicates).</summary>
sealed record AppendComparison(int BatchSize, int Batches, IReadOnlyList<TimeSpan> Appends, IReadOnlyList<TimeSpan> Copies, IReadOnlyList<TimeSpan> Redeliveries)
{
    public static double MedianMilliseconds(IReadOnlyList<TimeSpan> times) =>
        times.Select(t => t.TotalMilliseconds).Order().ElementAt(times.Count / 2);

    public double Ratio => MedianMilliseconds(Appends) / MedianMilliseconds(Copies);
}
