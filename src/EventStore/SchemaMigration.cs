namespace Streaming.EventStore;

/// <summary>One numbered step of the event store's schema; applied once, in order, and never edited after release.</summary>
internal sealed record SchemaMigration(int Version, string Name, string Sql);
