namespace Streaming.Ingest.Appending;

/// <summary>
/// A signal for the stream <paramref name="StreamId"/>, identified within it by <paramref name="Seq"/>; stored at most
/// once per (stream, seq). <paramref name="Data"/> and <paramref name="Metadata"/> are JSON text.
/// </summary>
public sealed record SignalToAppend(string StreamId, long Seq, Guid EventId, string Type, string Data, string Metadata, DateTimeOffset EventTime);
