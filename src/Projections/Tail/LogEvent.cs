using Streaming.Contracts.History;
using Streaming.EventStore;

namespace Streaming.Projections.Tail;

/// <summary>
/// An event of the log with its body decoded once for every fold of the process: the contract record its type names
/// (<see cref="SignalRecorded"/>, <see cref="PhaseChanged"/> …), null for a type no fold reads, or an
/// <see cref="UndecodableBody"/> saying why it could not be read. A signal's envelope carries no body text (its
/// <see cref="RecordedEvent.Data"/> is empty): folds read <see cref="Signal"/>.
/// </summary>
public readonly record struct LogEvent(RecordedEvent Event, object? Body)
{
    public TailPosition Position => Event.Position;

    public string StreamId => Event.StreamId;

    public string Type => Event.Type;

    public long Version => Event.Version;

    /// <summary>The signal this event records, when it is one and it could be read.</summary>
    public SignalRecorded? Signal => Body as SignalRecorded;

    /// <summary>The body as <typeparamref name="T"/>; throws why it cannot be (the event is then poisoned for the fold that needed it).</summary>
    public T Read<T>() where T : class => Body switch
    {
        T body => body,
        UndecodableBody undecodable => throw new UndecodableEventException(this, undecodable.Reason),
        _ => throw new UndecodableEventException(this, $"the body is not a {typeof(T).Name}"),
    };
}
