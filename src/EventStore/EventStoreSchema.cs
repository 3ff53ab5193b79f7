using Npgsql;

namespace Streaming.EventStore;

/// <summary>Creates and upgrades the event store's tables (schema <c>es</c>); safe to run from many processes at once.</summary>
public static class EventStoreSchema
{
    public const string SchemaName = "es";

    /// <summary>The channel every appending transaction notifies once, on commit.</summary>
    public const string NotificationChannel = "es_events";

    // Single-key advisory lock id for migrations ("es-migrate"); readers' two-key locks live in a separate key space.
    const long MigrationLockId = 0x65732d6d69677261;

    public static int LatestVersion => SchemaMigrations.All[^1].Version;

    /// <summary>Every migration's version, in order; the numbering has gaps (each part of the system has its own range).</summary>
    public static IReadOnlyList<int> Versions { get; } = [.. SchemaMigrations.All.Select(m => m.Version)];

    public static Task MigrateAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        MigrateAsync(dataSource, LatestVersion, cancellationToken);

    /// <summary>Applies every migration up to <paramref name="targetVersion"/> not applied yet; returns the versions it applied.</summary>
    public static async Task<IReadOnlyList<int>> MigrateAsync(NpgsqlDataSource dataSource, int targetVersion, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(targetVersion);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(targetVersion, LatestVersion);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Everything runs in one transaction behind the lock: a second process waits, then finds the work done.
        await ExecuteAsync(connection, $"""
            select pg_advisory_xact_lock({MigrationLockId});
            create schema if not exists {SchemaName};
            create table if not exists {SchemaName}.schema_versions (
                version    int primary key,
                name       text not null,
                applied_at timestamptz not null default now()
            );
            """, cancellationToken);
        var applied = await AppliedAsync(connection, cancellationToken);
        var newlyApplied = new List<int>();
        foreach (var migration in SchemaMigrations.All.Where(m => m.Version <= targetVersion && !applied.Contains(m.Version)))
        {
            await ExecuteAsync(connection, migration.Sql, cancellationToken);
            await using var record = new NpgsqlCommand(
                $"insert into {SchemaName}.schema_versions (version, name) values ($1, $2)", connection);
            record.Parameters.Add(new NpgsqlParameter<int> { TypedValue = migration.Version });
            record.Parameters.Add(new NpgsqlParameter<string> { TypedValue = migration.Name });
            await record.ExecuteNonQueryAsync(cancellationToken);
            newlyApplied.Add(migration.Version);
        }
        await transaction.CommitAsync(cancellationToken);
        return newlyApplied;
    }

    static async Task<HashSet<int>> AppliedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"select version from {SchemaName}.schema_versions", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var versions = new HashSet<int>();
        while (await reader.ReadAsync(cancellationToken))
        {
            versions.Add(reader.GetInt32(0));
        }
        return versions;
    }

    // No time limit: a migration that rewrites the events table takes minutes on a large store, and every other process
    // waits for it behind the lock.
    static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
