using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;

namespace Streaming.Ingest.Consuming;

/// <summary>
/// The last <see cref="ConsumerState"/> of each of Ingest's consumers, updated from librdkafka's statistics (every
/// <see cref="Interval"/>) on the consumer's own thread: what to look at when a signal is delivered but never stored.
/// </summary>
public sealed class ConsumerStates
{
    /// <summary>How often each consumer's statistics, and so its state, are taken.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    readonly ConcurrentDictionary<string, ConsumerState> _states = new();

    public IReadOnlyList<ConsumerState> All => [.. _states.Values.OrderBy(s => s.Consumer, StringComparer.Ordinal)];

    public void Update(ConsumerState state) => _states[state.Consumer] = state;

    public override string ToString() => _states.IsEmpty ? "no consumer state yet" : string.Join(" | ", All);

    /// <summary>The partitions of <paramref name="topic"/> the consumer is assigned, from librdkafka's statistics JSON.</summary>
    public static IReadOnlyList<PartitionFetch> Fetches(string statistics, string topic)
    {
        using var document = JsonDocument.Parse(statistics);
        if (!document.RootElement.TryGetProperty("topics", out var topics) || !topics.TryGetProperty(topic, out var topicStats)
            || !topicStats.TryGetProperty("partitions", out var partitions))
        {
            return [];
        }
        var fetches = new List<PartitionFetch>();
        foreach (var partition in partitions.EnumerateObject())
        {
            // Partition -1 holds what is not yet assigned to a partition; a partition not desired is not this consumer's.
            var (number, stats) = (int.Parse(partition.Name, CultureInfo.InvariantCulture), partition.Value);
            if (number < 0 || !(stats.TryGetProperty("desired", out var desired) && desired.GetBoolean()))
            {
                continue;
            }
            fetches.Add(new PartitionFetch(
                number,
                stats.GetProperty("fetch_state").GetString() ?? "",
                stats.GetProperty("next_offset").GetInt64(),
                stats.GetProperty("app_offset").GetInt64(),
                stats.GetProperty("hi_offset").GetInt64(),
                stats.GetProperty("ls_offset").GetInt64(),
                stats.GetProperty("fetchq_cnt").GetInt64()));
        }
        return [.. fetches.OrderBy(f => f.Partition)];
    }
}
