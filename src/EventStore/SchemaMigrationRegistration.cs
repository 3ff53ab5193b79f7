namespace Streaming.EventStore;

/// <summary>Migrations a part of the process registered for its own tables; the process applies them with the store's own.</summary>
public sealed record SchemaMigrationRegistration(IReadOnlyList<SchemaMigration> Migrations);
