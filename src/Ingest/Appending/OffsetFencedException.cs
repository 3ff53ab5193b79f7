namespace Streaming.Ingest.Appending;

/// <summary>
/// A stored Kafka offset was not where this consumer expected it, so another consumer owns the partition now; the whole
/// append was rolled back.
/// </summary>
public sealed class OffsetFencedException(string consumerGroup, string topic, int partition, long? expectedNextOffset, long? actualNextOffset)
    : Exception($"Offset of {consumerGroup} on {topic}/{partition} is {Show(actualNextOffset)}, not the expected {Show(expectedNextOffset)}: another consumer moved it")
{
    public string ConsumerGroup { get; } = consumerGroup;

    public string Topic { get; } = topic;

    public int Partition { get; } = partition;

    public long? ExpectedNextOffset { get; } = expectedNextOffset;

    public long? ActualNextOffset { get; } = actualNextOffset;

    static string Show(long? offset) => offset?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(none stored)";
}
