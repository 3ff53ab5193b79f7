namespace Streaming.Embedded.Broker;

/// <summary>Kafka protocol request kinds (API keys) the embedded broker can be told to fail.</summary>
public enum KafkaRequest : short
{
    Produce = 0,
    Fetch = 1,
    ListOffsets = 2,
    Metadata = 3,
    OffsetCommit = 8,
    OffsetFetch = 9,
    FindCoordinator = 10,
    JoinGroup = 11,
    Heartbeat = 12,
    SyncGroup = 14,
    InitProducerId = 22,
}
