using Npgsql;
using Streaming.Api;
using Streaming.EventStore;
using Streaming.Ingest;
using Streaming.Projector;
using Streaming.Promoter;

namespace Streaming.Cli;

/// <summary>Every part's migrations: the tool reads and writes every part's tables, so it brings them all up to date.</summary>
public static class StoreSchema
{
    /// <summary>What the services register (each its own tables'); the store's own come with them when applied.</summary>
    public static IReadOnlyList<SchemaMigration> ServiceMigrations { get; } =
        [.. IngestSchema.Migrations, .. ProjectorSchema.Migrations, .. PromoterSchema.Migrations, .. ApiSchema.Migrations,
         .. Api.Notifications.NotificationSchema.Migrations];

    /// <summary>Every migration, the store's own included, in version order.</summary>
    public static IReadOnlyList<SchemaMigration> All { get; } = EventStoreSchema.Union(ServiceMigrations);

    public static Task<IReadOnlyList<int>> MigrateAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        EventStoreSchema.MigrateAsync(dataSource, ServiceMigrations, cancellationToken);
}
