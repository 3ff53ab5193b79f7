using Streaming.Chaos.Environment;
using Streaming.Embedded.Broker;

namespace Streaming.Chaos.Scenarios;

/// <summary>What a fault plan may act on during a run.</summary>
public sealed record FaultContext(EmbeddedKafkaCluster Broker, PostgresCluster Postgres, SupervisedServices Services, long TotalMessages, int Partitions);
