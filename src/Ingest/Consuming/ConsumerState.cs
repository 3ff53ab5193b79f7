namespace Streaming.Ingest.Consuming;

/// <summary>
/// What one of Ingest's consumers last said about itself, <see cref="At"/>: where its loop stood (<see cref="Loop"/>:
/// each partition's state and stored offset, the append in flight) and librdkafka's fetch of each of its partitions.
/// A consumer thread that stops calling Consume stops updating it, so an old one says the loop is stuck.
/// </summary>
public sealed record ConsumerState(string Consumer, DateTime At, string Loop, IReadOnlyList<PartitionFetch> Fetches)
{
    public override string ToString() =>
        $"{Consumer} at {At:HH:mm:ss.fff}: {Loop}; fetching {(Fetches.Count == 0 ? "nothing" : string.Join("; ", Fetches))}";
}
