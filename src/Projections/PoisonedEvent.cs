using Streaming.EventStore;
using Streaming.Projections.Tail;

namespace Streaming.Projections;

/// <summary>
/// An event a fold could not apply, as recorded in <c>es.poisoned_events</c>: the fold, where the event is, its stream
/// and type, and why. The fold skipped it for that stream only and went on.
/// </summary>
public sealed record PoisonedEvent(string Fold, TailPosition Position, string StreamId, long Version, string EventType, string Error)
{
    /// <summary>Longest error text kept: the exception's type and message, cut short.</summary>
    public const int MaxErrorLength = 2_000;

    /// <summary>The log partition of the event; <see cref="Position"/> is its place in that partition.</summary>
    public int Partition { get; init; }

    public static PoisonedEvent Of(string fold, LogEvent logEvent, Exception exception)
    {
        // PostgreSQL text holds no NUL character, and the message may quote the event.
        var error = $"{exception.GetType().Name}: {exception.Message}".Replace("\0", "\\0", StringComparison.Ordinal);
        return new PoisonedEvent(fold, logEvent.Position, logEvent.StreamId, logEvent.Version, logEvent.Type,
            error.Length <= MaxErrorLength ? error : error[..MaxErrorLength] + "…")
        {
            Partition = logEvent.Event.Partition,
        };
    }
}
