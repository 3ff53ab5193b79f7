using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Ingest.Appending;

namespace Streaming.Tests.EventStore;

/// <summary>Events and signals with just enough content to tell them apart.</summary>
internal static class SampleEvents
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    public static EventToAppend Event(string type = "something-happened", DateTimeOffset? eventTime = null, Guid? eventId = null) =>
        new(eventId ?? Guid.NewGuid(), type, """{"value":1}""", """{"source":"test"}""", eventTime ?? T0);

    public static EventToAppend[] Events(int count, string type = "something-happened") =>
        Enumerable.Range(0, count).Select(i => Event(type, T0.AddMinutes(i))).ToArray();

    /// <summary>A signal whose event id is derived from (stream, seq), as Ingest's are.</summary>
    public static SignalToAppend Signal(string streamId, long seq, string? data = null) =>
        new(streamId, seq, EventIds.ForSignal(streamId, seq), "signal-recorded", data ?? $$"""{"seq":{{seq}}}""", """{"source":"test"}""", T0.AddMinutes(seq));

    public static string NewStreamId(string prefix) => $"{prefix}-{Guid.NewGuid():N}";
}
