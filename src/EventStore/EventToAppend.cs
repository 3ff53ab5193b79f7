namespace Streaming.EventStore;

/// <summary>An event to append to a stream; <paramref name="Data"/> and <paramref name="Metadata"/> are JSON text.</summary>
public sealed record EventToAppend(Guid EventId, string Type, string Data, string Metadata, DateTimeOffset EventTime);
