using JasperFx;

namespace Streaming.Bench.Marten.Appending;

/// <summary>
/// The next Kafka offset to consume from one partition, stored in the same session as the events it produced. Its
/// numeric revision makes the write a compare-and-set: a writer that lost the partition cannot overwrite it.
/// </summary>
public sealed class KafkaOffsets : IRevisioned
{
    public required string Id { get; set; }

    public long NextOffset { get; set; }

    public int Version { get; set; }

    public static string IdOf(string topic, int partition) => $"{topic}/{partition}";
}
