using System.Globalization;

namespace Streaming.Bench.Delivery;

/// <summary>
/// The all-in-one process's commit counters, read from its Prometheus endpoint: each fold's bookkeeping commits (state
/// and checkpoint saves, <c>streaming.fold.commits</c>) and Ingest's batches appended (<c>streaming.ingest.batches</c>,
/// one commit each on one shard).
/// </summary>
public sealed record BookkeepingCommits(IReadOnlyDictionary<string, long> ByFold, long IngestCommits)
{
    const string FoldCommits = "streaming_fold_commits_total";
    const string IngestBatches = "streaming_ingest_batches_total";

    public long Total => ByFold.Values.Sum();

    public static async Task<BookkeepingCommits> ScrapeAsync(HttpClient http, Uri metrics, CancellationToken cancellationToken) =>
        Parse(await http.GetStringAsync(metrics, cancellationToken));

    /// <summary>The counters in a Prometheus text exposition.</summary>
    public static BookkeepingCommits Parse(string exposition)
    {
        var byFold = new Dictionary<string, long>(StringComparer.Ordinal);
        long ingest = 0;
        foreach (var line in exposition.Split('\n'))
        {
            if (line.StartsWith(FoldCommits + "{", StringComparison.Ordinal) && Label(line, "fold") is { } fold)
            {
                byFold[fold] = byFold.GetValueOrDefault(fold) + Value(line);
            }
            else if (line.StartsWith(IngestBatches, StringComparison.Ordinal))
            {
                ingest += Value(line);
            }
        }
        return new BookkeepingCommits(byFold, ingest);
    }

    /// <summary>What was counted between <paramref name="before"/> and this.</summary>
    public BookkeepingCommits Since(BookkeepingCommits before) =>
        new(ByFold.ToDictionary(f => f.Key, f => f.Value - before.ByFold.GetValueOrDefault(f.Key)), IngestCommits - before.IngestCommits);

    // name{a="x",fold="y"} 12 [timestamp]
    static string? Label(string line, string name)
    {
        var start = line.IndexOf($"{name}=\"", StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }
        start += name.Length + 2;
        var end = line.IndexOf('"', start);
        return end < 0 ? null : line[start..end];
    }

    static long Value(string line)
    {
        var labels = line.LastIndexOf('}');
        var fields = line[(labels >= 0 ? labels + 1 : line.IndexOf(' '))..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 0 && double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? (long)value : 0;
    }
}
