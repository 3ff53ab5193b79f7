using System.Text;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.Signals;

namespace Streaming.Ingest.Appending;

/// <summary>
/// A signal for the stream <paramref name="StreamId"/>, identified within it by <paramref name="Seq"/>; stored at most
/// once per (stream, seq). <paramref name="Data"/> is UTF-8 JSON, <paramref name="Metadata"/> JSON text or none (what
/// Ingest stores: a signal's correlation id is in its body, and which message it came from is not kept).
/// </summary>
public sealed record SignalToAppend(string StreamId, long Seq, Guid EventId, string Type, ReadOnlyMemory<byte> Data, string? Metadata, DateTimeOffset EventTime)
{
    /// <summary>A signal whose body is JSON text.</summary>
    public SignalToAppend(string streamId, long seq, Guid eventId, string type, string data, string? metadata, DateTimeOffset eventTime)
        : this(streamId, seq, eventId, type, Encoding.UTF8.GetBytes(data), metadata, eventTime)
    {
    }

    /// <summary>
    /// The <c>signal-recorded/v1</c> event of a message read against the wire contract: its body is the message's own
    /// bytes when the reader found them readable as that event as they are (<see cref="SignalReadResult.StorableAsSent"/>),
    /// else the signal as read, written anew; no metadata (the correlation id is in the body already).
    /// </summary>
    public static SignalToAppend Of(SignalReadResult read, ReadOnlyMemory<byte> value)
    {
        ArgumentNullException.ThrowIfNull(read);
        var signal = read.Signal ?? throw new ArgumentException("the message was rejected: " + read.RejectionReason, nameof(read));
        var data = read.StorableAsSent
            ? value
            : ContractsJson.SerializeToUtf8(new SignalRecorded(signal.JobId, signal.Seq, signal.EmittedAt, signal.Phase, signal.Metrics, signal.Labels, signal.CorrelationId));
        return new SignalToAppend(signal.JobId, signal.Seq, EventIds.ForSignal(signal.JobId, signal.Seq), SignalRecorded.EventType, data, null, signal.EmittedAt);
    }
}
