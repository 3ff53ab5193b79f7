using System.Text.Json;

namespace Streaming.Tests.Ingest;

/// <summary>
/// One compact-JSON log line: when, the rendered message, the partitions it names (its Partitions property) and, for a
/// stored batch, each partition's stored offsets from the one stored before to the one stored by it (its Offsets property).
/// </summary>
public sealed record IngestLogLine(DateTimeOffset At, string Message, IReadOnlyList<int> Partitions, IReadOnlyDictionary<int, (long From, long To)> Offsets)
{
    public bool IsStored => Message.StartsWith("Stored", StringComparison.Ordinal);

    public static IngestLogLine? Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var partitions = root.TryGetProperty("Partitions", out var list) && list.ValueKind == JsonValueKind.String
                ? list.GetString()!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList()
                : [];
            var offsets = root.TryGetProperty("Offsets", out var ranges) && ranges.ValueKind == JsonValueKind.String
                ? ranges.GetString()!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(Range).ToDictionary(r => r.Partition, r => (r.From, r.To))
                : [];
            return new IngestLogLine(root.GetProperty("@t").GetDateTimeOffset(), root.GetProperty("@m").GetString() ?? "", partitions, offsets);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // "3:100-1191"
    static (int Partition, long From, long To) Range(string text)
    {
        var (partition, range) = (text[..text.IndexOf(':')], text[(text.IndexOf(':') + 1)..]);
        var dash = range.IndexOf('-');
        return (int.Parse(partition), long.Parse(range[..dash]), long.Parse(range[(dash + 1)..]));
    }
}
