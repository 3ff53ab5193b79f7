using System.Buffers;
using System.Globalization;
using System.Text;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.Signals;

namespace Streaming.Ingest.Appending;

/// <summary>
/// A signal for the stream <paramref name="StreamId"/>, identified within it by <paramref name="Seq"/>; stored at most
/// once per (stream, seq). <paramref name="Data"/> is UTF-8 JSON, <paramref name="Metadata"/> JSON text.
/// </summary>
public sealed record SignalToAppend(string StreamId, long Seq, Guid EventId, string Type, ReadOnlyMemory<byte> Data, string Metadata, DateTimeOffset EventTime)
{
    /// <summary>A signal whose body is JSON text.</summary>
    public SignalToAppend(string streamId, long seq, Guid eventId, string type, string data, string metadata, DateTimeOffset eventTime)
        : this(streamId, seq, eventId, type, Encoding.UTF8.GetBytes(data), metadata, eventTime)
    {
    }

    /// <summary>
    /// The <c>signal-recorded/v1</c> event of a message read against the wire contract: its body is the message's own
    /// bytes when the reader found them readable as that event as they are (<see cref="SignalReadResult.StorableAsSent"/>),
    /// else the signal as read, written anew; its metadata is where the message came from (the correlation id is in the
    /// body already).
    /// </summary>
    public static SignalToAppend Of(SignalReadResult read, ReadOnlyMemory<byte> value, string topic, int partition, long offset)
    {
        ArgumentNullException.ThrowIfNull(read);
        var signal = read.Signal ?? throw new ArgumentException("the message was rejected: " + read.RejectionReason, nameof(read));
        var data = read.StorableAsSent
            ? value
            : ContractsJson.SerializeToUtf8(new SignalRecorded(signal.JobId, signal.Seq, signal.EmittedAt, signal.Phase, signal.Metrics, signal.Labels, signal.CorrelationId));
        return new SignalToAppend(signal.JobId, signal.Seq, EventIds.ForSignal(signal.JobId, signal.Seq), SignalRecorded.EventType, data,
            SourceMetadata(topic, partition, offset), signal.EmittedAt);
    }

    // Kafka's legal topic characters, which JSON writes as they are.
    static readonly SearchValues<char> TopicCharacters = SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");

    // What EventMetadata without a correlation id serialises to, written directly.
    static string SourceMetadata(string topic, int partition, long offset) =>
        topic.AsSpan().ContainsAnyExcept(TopicCharacters)
            ? ContractsJson.Serialize(new EventMetadata(null, new KafkaSource(topic, partition, offset)))
            : string.Create(CultureInfo.InvariantCulture, $"{{\"source\":{{\"topic\":\"{topic}\",\"partition\":{partition},\"offset\":{offset}}}}}");
}
