using Streaming.EventStore;

namespace Streaming.Ingest;

/// <summary>The Ingest's tables (its Kafka offsets, committed with the events they carried), in the store's one version space (see <see cref="SchemaMigration"/>).</summary>
public static class IngestSchema
{
    public static readonly IReadOnlyList<SchemaMigration> Migrations =
    [
        new(2, "kafka_offsets", """
            create table es.kafka_offsets (
                consumer_group text not null,
                topic          text not null,
                partition      int not null,
                next_offset    bigint not null check (next_offset >= 0),
                updated_at     timestamptz not null default now(),
                primary key (consumer_group, topic, partition)
            );
            """),
    ];
}
