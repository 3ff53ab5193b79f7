namespace Streaming.Projections.Tail;

/// <summary>A fold needed the body of an event that could not be decoded.</summary>
public sealed class UndecodableEventException(LogEvent logEvent, string reason)
    : Exception($"{logEvent.Type} at {logEvent.Position} in stream '{logEvent.StreamId}' cannot be read: {reason}");
