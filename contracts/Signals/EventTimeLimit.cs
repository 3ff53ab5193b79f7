namespace Streaming.Contracts.Signals;

/// <summary>
/// How far ahead of the Kafka timestamp of its message a signal's event time may be: a producer's clock can run a
/// little fast, but an event time days ahead of the broker's record of the message is a bug.
/// </summary>
public readonly record struct EventTimeLimit(DateTimeOffset MessageTimestamp, TimeSpan MaxClockSkew)
{
    public DateTimeOffset Latest => MessageTimestamp > DateTimeOffset.MaxValue - MaxClockSkew ? DateTimeOffset.MaxValue : MessageTimestamp + MaxClockSkew;
}
