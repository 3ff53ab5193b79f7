using Npgsql;
using Streaming.Cli;
using Streaming.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Projections;

/// <summary>The fixed tables and views of the projections and the Promoter come from the versioned migrations.</summary>
public sealed class ProjectionSchemaTests
{
    [Fact]
    public async Task The_migrations_alone_create_every_fixed_table_and_view_the_services_use()
    {
        await TestDatabase.UseFreshAsync(async dataSource =>
        {
            await StoreSchema.MigrateAsync(dataSource, CancellationToken.None);

            Assert.Equal(
                ["es.poisoned_events", "projections.generations", "projections.job_signal_rows", "projections.job_signals", "projections.job_state_rows",
                 "projections.job_states", "projections.phase_counts",
                 "promoter.admission_state", "promoter.approval_state", "promoter.breaker_state", "promoter.fleet_state", "promoter.gate_state", "promoter.job_lifecycle_snapshots", "promoter.shadow_agreement",
                 "promoter.shadow_tracks", "promoter.silence_entries"],
                await RelationsAsync(dataSource, "es.poisoned_events", "projections.%", "promoter.%"));
            Assert.Equal(
                ["phase", "jobs", "awaiting_ack", "stuck", "regressed", "known_issue", "overridden", "quarantined", "waiting_for_slot", "poisoned"],
                await ColumnsAsync(dataSource, "phase_counts"));
        });
    }

    [Fact]
    public async Task A_generation_an_earlier_build_kept_in_this_row_format_stays_active_with_its_rows()
    {
        await TestDatabase.UseFreshAsync(async dataSource =>
        {
            // Given a store whose Projector created its generation table and views itself, in this build's row format
            await EventStoreSchema.MigrateAsync(dataSource, StoreSchema.ServiceMigrations, 5, CancellationToken.None);
            await ExecuteAsync(dataSource, """
                create schema projections;
                create table projections.generations (projection text not null, generation int not null, state text not null,
                    created_at timestamptz not null default now(), activated_at timestamptz, primary key (projection, generation));
                insert into projections.generations values ('job_states', 3, 'active', now(), now());
                create table projections.job_states_g3 (job_id text primary key, policy text not null, phase text not null,
                    assigned_at timestamptz, phase_since timestamptz, awaiting_ack boolean not null, last_reported_phase text,
                    last_seq bigint, last_signal_at timestamptz, stream_version bigint not null, phase_changes int not null,
                    last_direction text, last_changed_at timestamptz, stuck boolean not null, regressed boolean not null,
                    flags text[] not null, metrics jsonb not null, criteria jsonb not null, labels jsonb not null,
                    lifecycle bytea not null, waiting_for text, updated_at timestamptz not null default now());
                insert into projections.job_states_g3 values ('job-1', 'cdc-migration@1', 'shadow', null, null, true, null, 4, null, 4, 0,
                    null, null, false, false, '{held}', '{}', 'null', '{}', '\x00', null, now());
                create view projections.job_states as select * from projections.job_states_g3;
                """);

            // When the store is migrated
            await StoreSchema.MigrateAsync(dataSource, CancellationToken.None);

            // Then that generation is still the active one, read through the views, and nothing is projected again
            Assert.Equal("3:active", await ScalarAsync(dataSource, "select string_agg(generation || ':' || state, ',') from projections.generations"));
            Assert.Equal("job-1:4", await ScalarAsync(dataSource, "select job_id || ':' || last_seq from projections.job_states"));
            Assert.Equal("shadow:1:1", await ScalarAsync(dataSource, "select phase || ':' || jobs || ':' || overridden from projections.phase_counts"));
            // and the list's last-signal order has its row too
            Assert.Equal("job-1", await ScalarAsync(dataSource, "select string_agg(job_id, ',') from projections.job_signals"));
        });
    }

    static async Task<List<string>> RelationsAsync(NpgsqlDataSource dataSource, params string[] patterns)
    {
        await using var command = dataSource.CreateCommand("""
            select (n.nspname || '.' || c.relname) collate "C" from pg_class c join pg_namespace n on n.oid = c.relnamespace
             where c.relkind in ('r', 'p', 'v') and (n.nspname || '.' || c.relname) like any($1)
             order by 1
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = patterns });
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
        }
        return names;
    }

    static async Task<List<string>> ColumnsAsync(NpgsqlDataSource dataSource, string view)
    {
        await using var command = dataSource.CreateCommand(
            "select column_name from information_schema.columns where table_schema = 'projections' and table_name = $1 order by ordinal_position");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = view });
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
        }
        return names;
    }

    static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    static async Task<string?> ScalarAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        return await command.ExecuteScalarAsync() as string;
    }
}
