using System.Globalization;
using System.Text.Json;
using Npgsql;

namespace Streaming.EventStore;

/// <summary>Creates and upgrades the event store's tables (schema <c>es</c>); safe to run from many processes at once.</summary>
public static class EventStoreSchema
{
    public const string SchemaName = "es";

    /// <summary>The channel every appending transaction notifies once, on commit.</summary>
    public const string NotificationChannel = "es_events";

    // Single-key advisory lock id for migrations ("es-migrate"); readers' two-key locks live in a separate key space.
    public const long MigrationLockId = 0x65732d6d69677261;

    // The migration that partitions the log (SchemaMigrations, 17).
    const int PartitionedVersion = 17;

    /// <summary>The store's own migrations (streams, events, checkpoints, history blocks, poisoned events), in order.</summary>
    public static IReadOnlyList<SchemaMigration> Migrations => SchemaMigrations.All;

    /// <summary>
    /// The store's own migrations and <paramref name="registered"/>, in version order, each once. Two different steps
    /// with one version are refused: the version space is shared by every part.
    /// </summary>
    public static IReadOnlyList<SchemaMigration> Union(IEnumerable<SchemaMigration> registered)
    {
        var byVersion = new SortedDictionary<int, SchemaMigration>();
        foreach (var migration in SchemaMigrations.All.Concat(registered))
        {
            if (byVersion.TryGetValue(migration.Version, out var known) && known != migration)
            {
                throw new InvalidOperationException(
                    $"schema migration {migration.Version} is defined twice ({known.Name} and {migration.Name}): each part numbers its steps in its own range");
            }
            byVersion[migration.Version] = migration;
        }
        return [.. byVersion.Values];
    }

    /// <summary>Applies the store's own migrations not applied yet.</summary>
    public static Task<IReadOnlyList<int>> MigrateAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        MigrateAsync(dataSource, [], int.MaxValue, cancellationToken);

    /// <summary>Applies the store's own migrations and <paramref name="registered"/> not applied yet.</summary>
    public static Task<IReadOnlyList<int>> MigrateAsync(NpgsqlDataSource dataSource, IEnumerable<SchemaMigration> registered, CancellationToken cancellationToken) =>
        MigrateAsync(dataSource, registered, int.MaxValue, cancellationToken);

    /// <summary>
    /// Applies, in version order, every migration of the store's own and <paramref name="registered"/> up to
    /// <paramref name="targetVersion"/> not applied yet; returns the versions it applied.
    /// </summary>
    /// <summary>As the overload with a target version, applying every migration.</summary>
    public static Task<IReadOnlyList<int>> MigrateAsync(
        NpgsqlDataSource dataSource, IEnumerable<SchemaMigration> registered, LogPartitioner? partitioning, CancellationToken cancellationToken) =>
        MigrateAsync(dataSource, registered, int.MaxValue, cancellationToken, partitioning);

    /// <remarks>
    /// <paramref name="partitioning"/> is the log's partitioning a new store is created with (one partition when null); a
    /// store created already keeps its own, and refuses another partition count: changing it means a rebuild.
    /// </remarks>
    public static async Task<IReadOnlyList<int>> MigrateAsync(
        NpgsqlDataSource dataSource, IEnumerable<SchemaMigration> registered, int targetVersion, CancellationToken cancellationToken,
        LogPartitioner? partitioning = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(targetVersion);
        var migrations = Union(registered);
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
        if (partitioning is not null)
        {
            await using var settings = new NpgsqlCommand(
                "select set_config('es.log_partitions', $1, true), set_config('es.control_prefixes', $2, true)", connection);
            settings.Parameters.Add(new NpgsqlParameter<string> { TypedValue = partitioning.Partitions.ToString(CultureInfo.InvariantCulture) });
            settings.Parameters.Add(new NpgsqlParameter<string> { TypedValue = JsonSerializer.Serialize(partitioning.ControlPrefixes) });
            await settings.ExecuteNonQueryAsync(cancellationToken);
        }
        var applied = await AppliedAsync(connection, cancellationToken);
        var newlyApplied = new List<int>();
        foreach (var migration in migrations.Where(m => m.Version <= targetVersion && !applied.Contains(m.Version)))
        {
            await ExecuteAsync(connection, migration.Sql, cancellationToken);
            await using var record = new NpgsqlCommand(
                $"insert into {SchemaName}.schema_versions (version, name) values ($1, $2)", connection);
            record.Parameters.Add(new NpgsqlParameter<int> { TypedValue = migration.Version });
            record.Parameters.Add(new NpgsqlParameter<string> { TypedValue = migration.Name });
            await record.ExecuteNonQueryAsync(cancellationToken);
            newlyApplied.Add(migration.Version);
        }
        if (partitioning is not null && (applied.Contains(PartitionedVersion) || newlyApplied.Contains(PartitionedVersion)))
        {
            await KeepPartitioningAsync(connection, partitioning, cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return newlyApplied;
    }

    /// <summary>The log's partitioning as the store was created with it (one partition before the log was partitioned).</summary>
    public static async Task<LogPartitioner> ReadPartitioningAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select partitions, control_prefixes from es.log_partitioning");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new LogPartitioner(reader.GetInt32(0), reader.GetFieldValue<string[]>(1))
            : LogPartitioner.Single;
    }

    // A stream's partition is fixed when its row is created, so new control prefixes only place new streams; the count
    // cannot change without moving every job.
    static async Task KeepPartitioningAsync(NpgsqlConnection connection, LogPartitioner partitioning, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "update es.log_partitioning set control_prefixes = $2 where partitions = $1 returning partitions", connection);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = partitioning.Partitions });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. partitioning.ControlPrefixes] });
        if (await command.ExecuteScalarAsync(cancellationToken) is null)
        {
            await using var stored = new NpgsqlCommand("select partitions from es.log_partitioning", connection);
            throw new InvalidOperationException(
                $"The store's log has {await stored.ExecuteScalarAsync(cancellationToken)} partitions, not the {partitioning.Partitions} configured " +
                "(Store:LogPartitions): the count is fixed when the store is created, and changing it means a new store rebuilt from the log");
        }
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
