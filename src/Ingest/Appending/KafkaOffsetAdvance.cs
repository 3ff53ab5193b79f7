namespace Streaming.Ingest.Appending;

/// <summary>
/// Moves a stored Kafka offset from <paramref name="ExpectedNextOffset"/> (null: no row stored yet) to
/// <paramref name="NextOffset"/>, or fails the whole append when another consumer moved it first.
/// </summary>
public sealed record KafkaOffsetAdvance(string ConsumerGroup, string Topic, int Partition, long? ExpectedNextOffset, long NextOffset);
