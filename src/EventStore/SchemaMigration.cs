namespace Streaming.EventStore;

/// <summary>
/// One numbered step of the store's schema; applied once, in order, and never edited after release. Each part defines
/// the steps for its own tables and registers them (<see cref="SchemaMigrationExtensions.AddSchemaMigrations"/>); a
/// process applies the store's own (<see cref="EventStoreSchema.Migrations"/>) and what it registered, all in one version
/// space recorded in <c>es.schema_versions</c>, each part numbering in its own range: the event store 1-19, then 30-39 (src/EventStore),
/// the operator surface 20-29 (src/Api: tokens, fleet history), the Ingest 40-49, the Projector 50-59, the Promoter
/// 60-69. Steps released before the split keep their numbers, so existing stores need no conversion: 2 (Ingest's Kafka
/// offsets), 7 (the Projector's schema) and 8 (the Promoter's).
/// </summary>
public sealed record SchemaMigration(int Version, string Name, string Sql);
