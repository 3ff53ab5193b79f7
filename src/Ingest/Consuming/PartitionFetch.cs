namespace Streaming.Ingest.Consuming;

/// <summary>
/// librdkafka's view of one partition a consumer is assigned, from its statistics: its fetcher's state
/// (<c>active</c>, <c>offset-query</c>, <c>stopped</c>, ...), the next offset it fetches, the offset after the last
/// message handed to the application, the log's high watermark and last stable offset as last fetched, and how many
/// messages wait in its queue.
/// </summary>
public sealed record PartitionFetch(int Partition, string FetchState, long NextOffset, long AppOffset, long HighWatermark, long LastStable, long Queued)
{
    public override string ToString() =>
        $"{Partition}: {FetchState}, next {NextOffset}, handed out to {AppOffset}, high {HighWatermark}, stable {LastStable}, {Queued} queued";
}
