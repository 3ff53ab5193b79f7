namespace Streaming.Ingest.Consuming;

/// <summary>A partition read that delivered nothing for <paramref name="Quiet"/> while its log ended at <paramref name="LogEnd"/>, past <paramref name="Stored"/>.</summary>
sealed record SilentPartition(int Partition, long? Stored, long LogEnd, TimeSpan Quiet);
