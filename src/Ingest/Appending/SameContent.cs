using System.Text.Json;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;

namespace Streaming.Ingest.Appending;

/// <summary>
/// Whether a repeated seq carries the same content as its first copy: the same bytes, the same JSON value (order of
/// members and spelling of numbers and strings aside), or the same signal, one copy stored as its producer sent it and the
/// other as rewritten from what was read (<see cref="SignalToAppend.Of"/>).
/// </summary>
static class SameContent
{
    public static bool Of(ReadOnlyMemory<byte> first, ReadOnlyMemory<byte> again)
    {
        if (first.Span.SequenceEqual(again.Span))
        {
            return true;
        }
        try
        {
            using var a = JsonDocument.Parse(first);
            using var b = JsonDocument.Parse(again);
            return JsonElement.DeepEquals(a.RootElement, b.RootElement)
                || (AsSignal(a.RootElement) is { } x && AsSignal(b.RootElement) is { } y && SameSignal(x, y));
        }
        catch (JsonException)
        {
            return false;
        }
    }

    static SignalRecorded? AsSignal(JsonElement body)
    {
        try
        {
            return body.Deserialize(ContractsJson.Default.SignalRecorded) is { JobId: not null, Phase: not null, Metrics: not null } signal ? signal : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException or FormatException)
        {
            return null;
        }
    }

    static bool SameSignal(SignalRecorded a, SignalRecorded b) =>
        a.JobId == b.JobId && a.Seq == b.Seq && a.EmittedAt.EqualsExact(b.EmittedAt) && a.Phase == b.Phase && a.CorrelationId == b.CorrelationId
        && SameEntries(a.Metrics, b.Metrics) && SameEntries(a.Labels, b.Labels);

    // A stored signal without labels has none.
    static bool SameEntries<T>(IReadOnlyDictionary<string, T>? a, IReadOnlyDictionary<string, T>? b)
    {
        if ((a?.Count ?? 0) != (b?.Count ?? 0))
        {
            return false;
        }
        foreach (var (name, value) in a ?? new Dictionary<string, T>())
        {
            if (!b!.TryGetValue(name, out var other) || !EqualityComparer<T>.Default.Equals(value, other))
            {
                return false;
            }
        }
        return true;
    }
}
