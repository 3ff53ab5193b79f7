using Npgsql;
using Streaming.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.EventStore;

public sealed class SchemaMigrationTests
{
    [Fact]
    public async Task Migrating_twice_applies_every_migration_once()
    {
        await TestDatabase.UseFreshAsync(async dataSource =>
        {
            var first = await EventStoreSchema.MigrateAsync(dataSource, EventStoreSchema.LatestVersion, CancellationToken.None);
            var second = await EventStoreSchema.MigrateAsync(dataSource, EventStoreSchema.LatestVersion, CancellationToken.None);

            Assert.Equal(EventStoreSchema.Versions, first);
            Assert.Empty(second);
            Assert.Equal(EventStoreSchema.Versions, await AppliedVersionsAsync(dataSource));
        });
    }

    [Fact]
    public async Task Migrations_started_at_once_from_several_tasks_apply_each_step_once()
    {
        await TestDatabase.UseFreshAsync(async dataSource =>
        {
            var runs = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() =>
                EventStoreSchema.MigrateAsync(dataSource, EventStoreSchema.LatestVersion, CancellationToken.None))));

            Assert.Equal(EventStoreSchema.Versions, runs.SelectMany(r => r).Order());
            Assert.Equal(EventStoreSchema.Versions, await AppliedVersionsAsync(dataSource));
        });
    }

    [Fact]
    public async Task A_database_at_version_1_gets_only_the_newer_migrations_and_keeps_its_events()
    {
        await TestDatabase.UseFreshAsync(async dataSource =>
        {
            Assert.Equal([1], await EventStoreSchema.MigrateAsync(dataSource, 1, CancellationToken.None));
            await using (var append = dataSource.CreateCommand("""
                insert into es.events (stream_id, version, event_id, type, data, metadata, event_time)
                select 'job-1', v, gen_random_uuid(), 'test-event', ('{"n":' || v || '}')::jsonb, '{}', now() from generate_series(1, 2) v
                """))
            {
                await append.ExecuteNonQueryAsync();
            }
            var before = await EventsAsync(dataSource);
            var v1AppliedAt = await AppliedAtAsync(dataSource, 1);

            var applied = await EventStoreSchema.MigrateAsync(dataSource, EventStoreSchema.LatestVersion, CancellationToken.None);

            Assert.Equal(EventStoreSchema.Versions.Skip(1), applied);
            Assert.Equal(EventStoreSchema.Versions, await AppliedVersionsAsync(dataSource));
            Assert.Equal(v1AppliedAt, await AppliedAtAsync(dataSource, 1));
            var after = await new EventStreams(dataSource).ReadStreamForwardAsync("job-1", 1, 10, CancellationToken.None);
            Assert.Equal(2, after.Count);
            Assert.Equal(before, after.Select(e => (e.EventId, e.Data, e.Metadata, e.Version)));
            Assert.Equal(["json", "json"], await ColumnTypesAsync(dataSource, "data", "metadata"));
        });
    }

    static async Task<List<(Guid, string, string, long)>> EventsAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("select event_id, data::text, metadata::text, version from es.events order by version");
        await using var reader = await command.ExecuteReaderAsync();
        var events = new List<(Guid, string, string, long)>();
        while (await reader.ReadAsync())
        {
            events.Add((reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3)));
        }
        return events;
    }

    static async Task<List<int>> AppliedVersionsAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("select version from es.schema_versions order by version");
        await using var reader = await command.ExecuteReaderAsync();
        var versions = new List<int>();
        while (await reader.ReadAsync())
        {
            versions.Add(reader.GetInt32(0));
        }
        return versions;
    }

    static async Task<List<string>> ColumnTypesAsync(NpgsqlDataSource dataSource, params string[] columns)
    {
        await using var command = dataSource.CreateCommand(
            "select data_type from information_schema.columns where table_schema = 'es' and table_name = 'events' and column_name = any($1) order by column_name");
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = columns });
        await using var reader = await command.ExecuteReaderAsync();
        var types = new List<string>();
        while (await reader.ReadAsync())
        {
            types.Add(reader.GetString(0));
        }
        return types;
    }

    static async Task<DateTime> AppliedAtAsync(NpgsqlDataSource dataSource, int version)
    {
        await using var command = dataSource.CreateCommand("select applied_at from es.schema_versions where version = $1");
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = version });
        return (DateTime)(await command.ExecuteScalarAsync())!;
    }
}
