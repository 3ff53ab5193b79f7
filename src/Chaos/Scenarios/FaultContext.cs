using Streaming.Chaos.Environment;
using Streaming.Embedded.Broker;
using Streaming.EventStore;

namespace Streaming.Chaos.Scenarios;

/// <summary>What a fault plan may act on during a run: the broker, each shard's PostgreSQL cluster and database (shard 0 first), the services.</summary>
public sealed record FaultContext(
    EmbeddedKafkaCluster Broker, IReadOnlyList<PostgresCluster> Postgres, StoreShards Store, SupervisedServices Services, long TotalMessages, int Partitions);
