using Confluent.Kafka;

namespace Streaming.Ingest.DeadLetters;

/// <summary>A consumed message that will not become an event, and why.</summary>
public sealed record DeadLetter(ConsumeResult<byte[]?, byte[]?> Source, string Reason);
