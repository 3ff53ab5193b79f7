using Confluent.Kafka;
using Streaming.Ingest.Appending;

namespace Streaming.Ingest.Consuming;

/// <summary>A consumed message read against the wire contract once, as it arrived: a signal to append or the reason it is not one.</summary>
sealed record ReadMessage(ConsumeResult<byte[]?, byte[]?> Source, SignalToAppend? Signal, string? RejectionReason)
{
    public int Partition => Source.Partition.Value;
}
