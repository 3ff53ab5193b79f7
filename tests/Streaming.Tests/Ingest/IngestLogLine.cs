using System.Text.Json;

namespace Streaming.Tests.Ingest;

/// <summary>One compact-JSON log line: when, the rendered message, and the partitions it names (its Partitions property).</summary>
public sealed record IngestLogLine(DateTimeOffset At, string Message, IReadOnlyList<int> Partitions)
{
    public static IngestLogLine? Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var partitions = root.TryGetProperty("Partitions", out var list) && list.ValueKind == JsonValueKind.String
                ? list.GetString()!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList()
                : [];
            return new IngestLogLine(root.GetProperty("@t").GetDateTimeOffset(), root.GetProperty("@m").GetString() ?? "", partitions);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
