using Npgsql;
using Streaming.Cli;
using Streaming.EventStore;
using Streaming.Ingest;
using Streaming.Projector;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.EventStore;

public sealed class SchemaMigrationTests
{
    static readonly IReadOnlyList<int> AllVersions = [.. StoreSchema.All.Select(m => m.Version)];

    [Fact]
    public async Task Migrating_twice_applies_every_migration_once()
    {
        await TestDatabase.UseFreshAsync(async dataSource =>
        {
            var first = await StoreSchema.MigrateAsync(dataSource, CancellationToken.None);
            var second = await StoreSchema.MigrateAsync(dataSource, CancellationToken.None);

            Assert.Equal(AllVersions, first);
            Assert.Empty(second);
            Assert.Equal(AllVersions, await AppliedVersionsAsync(dataSource));
        });
    }

    [Fact]
    public async Task Migrations_started_at_once_from_several_tasks_apply_each_step_once()
    {
        await TestDatabase.UseFreshAsync(async dataSource =>
        {
            var runs = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() =>
                StoreSchema.MigrateAsync(dataSource, CancellationToken.None))));

            Assert.Equal(AllVersions, runs.SelectMany(r => r).Order());
            Assert.Equal(AllVersions, await AppliedVersionsAsync(dataSource));
        });
    }

    [Fact]
    public async Task A_database_at_version_1_gets_only_the_newer_migrations_and_keeps_its_events()
    {
        await TestDatabase.UseFreshAsync(async dataSource =>
        {
            Assert.Equal([1], await EventStoreSchema.MigrateAsync(dataSource, StoreSchema.ServiceMigrations, 1, CancellationToken.None));
            await using (var append = dataSource.CreateCommand("""
                insert into es.events (stream_id, version, event_id, type, data, metadata, event_time)
                select 'job-1', v, gen_random_uuid(), 'test-event', ('{"n":' || v || '}')::jsonb, '{}', now() from generate_series(1, 2) v
                """))
            {
                await append.ExecuteNonQueryAsync();
            }
            var before = await EventsAsync(dataSource);
            var v1AppliedAt = await AppliedAtAsync(dataSource, 1);

            var applied = await StoreSchema.MigrateAsync(dataSource, CancellationToken.None);

            Assert.Equal(AllVersions.Skip(1), applied);
            Assert.Equal(AllVersions, await AppliedVersionsAsync(dataSource));
            Assert.Equal(v1AppliedAt, await AppliedAtAsync(dataSource, 1));
            var after = await new EventStreams(dataSource).ReadStreamForwardAsync("job-1", 1, 10, CancellationToken.None);
            Assert.Equal(2, after.Count);
            Assert.Equal(before, after.Select(e => (e.EventId, e.Data, e.Metadata, e.Version)));
            Assert.Equal(["json", "json"], await ColumnTypesAsync(dataSource, "data", "metadata"));
        });
    }

    static async Task<List<(Guid, string, string?, long)>> EventsAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("select event_id, data::text, metadata::text, version from es.events order by version");
        await using var reader = await command.ExecuteReaderAsync();
        var events = new List<(Guid, string, string?, long)>();
        while (await reader.ReadAsync())
        {
            events.Add((reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3)));
        }
        return events;
    }

    [Fact]
    public async Task A_process_applies_the_stores_own_migrations_and_only_those_its_parts_registered()
    {
        await TestDatabase.UseFreshAsync(async dataSource =>
        {
            // An Ingest alone: the store's tables and its Kafka offsets, none of the Projector's
            var ingest = await EventStoreSchema.MigrateAsync(dataSource, IngestSchema.Migrations, CancellationToken.None);
            Assert.Equal(EventStoreSchema.Migrations.Select(m => m.Version).Append(2).Order(), ingest);
            Assert.Null(await ScalarAsync(dataSource, "select to_regclass('projections.generations')::text"));
            Assert.Equal("es.kafka_offsets", await ScalarAsync(dataSource, "select to_regclass('es.kafka_offsets')::text"));

            // Then a Projector: only its own are new
            Assert.Equal([.. ProjectorSchema.Migrations.Select(m => m.Version)], await EventStoreSchema.MigrateAsync(dataSource, ProjectorSchema.Migrations, CancellationToken.None));
            Assert.Equal("projections.generations", await ScalarAsync(dataSource, "select to_regclass('projections.generations')::text"));

            // And the tool's migrate: the rest, each once
            var rest = await StoreSchema.MigrateAsync(dataSource, CancellationToken.None);
            Assert.Equal(AllVersions.Except(ingest).Except(ProjectorSchema.Migrations.Select(m => m.Version)), rest);
            Assert.Equal(AllVersions, await AppliedVersionsAsync(dataSource));
        });
    }

    [Fact]
    public async Task No_row_trigger_runs_before_an_insert_into_the_events_so_ingests_copy_inserts_in_batches()
    {
        await TestDatabase.UseFreshAsync(async dataSource =>
        {
            await StoreSchema.MigrateAsync(dataSource, CancellationToken.None);

            // tgtype bits: 1 row, 2 before, 4 insert. PostgreSQL's COPY inserts one row at a time into a table with such a trigger.
            await using var command = dataSource.CreateCommand("""
                select coalesce(string_agg(tgname, ', '), '') from pg_trigger
                where tgrelid = 'es.events'::regclass and not tgisinternal and tgtype & 7 = 7
                """);
            Assert.Equal("", await command.ExecuteScalarAsync() as string);
        });
    }

    [Fact]
    public void Two_different_steps_with_one_version_are_refused_and_one_step_registered_twice_counts_once()
    {
        var clash = new SchemaMigration(EventStoreSchema.Migrations[0].Version, "another_step", "select 1");

        var refused = Assert.Throws<InvalidOperationException>(() => EventStoreSchema.Union([clash]));
        Assert.Contains("defined twice", refused.Message, StringComparison.Ordinal);
        Assert.Equal(EventStoreSchema.Union(IngestSchema.Migrations), EventStoreSchema.Union([.. IngestSchema.Migrations, .. IngestSchema.Migrations]));
    }

    [Fact]
    public void Every_part_numbers_its_new_steps_in_its_own_range()
    {
        // Released before the split, so they keep their numbers: 2 (Ingest), 7 (Projector), 8 (Promoter).
        static bool InRange(IReadOnlyList<SchemaMigration> migrations, int from, int to, params int[] released) =>
            migrations.All(m => m.Version >= from && m.Version <= to || released.Contains(m.Version));

        Assert.True(EventStoreSchema.Migrations.All(m => m.Version is >= 1 and <= 19 or >= 30 and <= 39));
        Assert.True(InRange(Streaming.Api.ApiSchema.Migrations, 20, 29));
        Assert.True(InRange(IngestSchema.Migrations, 40, 49, 2));
        Assert.True(InRange(ProjectorSchema.Migrations, 50, 59, 7));
        Assert.True(InRange(Streaming.Promoter.PromoterSchema.Migrations, 60, 69, 8));
    }

    static async Task<string?> ScalarAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        return await command.ExecuteScalarAsync() as string;
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
