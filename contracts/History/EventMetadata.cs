namespace Streaming.Contracts.History;

/// <summary>Metadata stored beside every event: where it came from and which request it belongs to.</summary>
public sealed record EventMetadata(string? CorrelationId, KafkaSource? Source);

/// <summary>The Kafka coordinates a stored event was read from.</summary>
public sealed record KafkaSource(string Topic, int Partition, long Offset);
