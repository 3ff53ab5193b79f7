using Streaming.EventStore;

namespace Streaming.Projector;

/// <summary>The Projector's tables and views (schema <c>projections</c>), in the store's one version space (see <see cref="SchemaMigration"/>).</summary>
public static class ProjectorSchema
{
    // The system-level counts over the active generation's rows; created again whenever the job_states view is.
    const string PhaseCountsView = """
        create view projections.phase_counts as
            select phase,
                   count(*)::int as jobs,
                   (count(*) filter (where awaiting_ack))::int as awaiting_ack,
                   (count(*) filter (where stuck))::int as stuck,
                   (count(*) filter (where regressed))::int as regressed,
                   (count(*) filter (where 'known-issue' = any(flags)))::int as known_issue,
                   (count(*) filter (where 'held' = any(flags) or 'pinned' = any(flags)))::int as overridden,
                   (count(*) filter (where 'quarantined' = any(flags)))::int as quarantined,
                   (count(*) filter (where waiting_for is not null))::int as waiting_for_slot,
                   (count(*) filter (where 'poisoned' = any(flags)))::int as poisoned
              from projections.job_states
             group by phase;
        """;

    public static readonly IReadOnlyList<SchemaMigration> Migrations =
    [
        // The job-state projection's fixed schema. Each generation is a partition of projections.job_state_rows, created
        // when a generation starts; the views read the active one, so switching generations is one update of
        // projections.generations. Earlier builds created these objects themselves: their generations in this row format
        // are attached as partitions (nothing is projected again), older ones are retired and the Projector fills a new one.
        new(7, "projections_schema", """
            create schema if not exists projections;
            create table if not exists projections.generations (
                projection   text not null,
                generation   int not null,
                state        text not null check (state in ('building', 'active', 'retired')),
                created_at   timestamptz not null default now(),
                activated_at timestamptz,
                primary key (projection, generation)
            );
            create unique index if not exists generations_one_active on projections.generations (projection) where state = 'active';
            drop view if exists projections.phase_counts;
            drop view if exists projections.job_states;

            create table projections.job_state_rows (
                generation          int not null,
                job_id              text not null,
                policy              text not null,
                phase               text not null,
                assigned_at         timestamptz,
                phase_since         timestamptz,
                awaiting_ack        boolean not null,
                last_reported_phase text,
                last_seq            bigint,
                last_signal_at      timestamptz,
                stream_version      bigint not null,
                phase_changes       int not null,
                last_direction      text,
                last_changed_at     timestamptz,
                stuck               boolean not null,
                regressed           boolean not null,
                flags               text[] not null,
                metrics             jsonb not null,
                criteria            jsonb not null,
                labels              jsonb not null,
                lifecycle           bytea not null,
                waiting_for         text,
                updated_at          timestamptz not null default now()
            ) partition by list (generation);

            do $$
            declare
                g record;
                tbl text;
            begin
                for g in select generation from projections.generations
                          where projection = 'job_states' and state in ('active', 'building') loop
                    tbl := 'job_states_g' || g.generation;
                    if exists (select from information_schema.columns
                                where table_schema = 'projections' and table_name = tbl and column_name = 'waiting_for') then
                        execute format('alter table projections.%I add column generation int not null default %s', tbl, g.generation);
                        execute format('alter table projections.job_state_rows attach partition projections.%I for values in (%s)', tbl, g.generation);
                    else
                        update projections.generations set state = 'retired' where projection = 'job_states' and generation = g.generation;
                    end if;
                end loop;
            end
            $$;

            create view projections.job_states as
                select job_id, policy, phase, assigned_at, phase_since, awaiting_ack, last_reported_phase, last_seq, last_signal_at,
                       stream_version, phase_changes, last_direction, last_changed_at, stuck, regressed, flags, metrics, criteria,
                       labels, lifecycle, waiting_for, updated_at
                  from projections.job_state_rows
                 where generation = (select generation from projections.generations where projection = 'job_states' and state = 'active');

            """ + PhaseCountsView),
        // 50-59: the job-state projection's rows (src/Projector/JobStates). An index for each sort and filter of the jobs
        // list, on the partitioned table so every generation has them. None covers a column a signal changes, so a
        // signal's row rewrite stays a HOT update (no index entries; the heap keeps fillfactor 70 for it): the last-signal
        // order lives in a narrow table of its own (job_signal_rows), whose index alone takes a signal's index write.
        new(50, "job_state_list_indexes", """
            create index if not exists job_state_rows_since on projections.job_state_rows (coalesce(phase_since, '-infinity'::timestamptz), job_id);
            create index if not exists job_state_rows_changes on projections.job_state_rows (phase_changes, job_id);
            create index if not exists job_state_rows_phase on projections.job_state_rows (phase, job_id);
            create index if not exists job_state_rows_flags on projections.job_state_rows using gin (flags);
            create index if not exists job_state_rows_labels on projections.job_state_rows using gin (labels jsonb_path_ops);
            do $$
            declare
                g record;
            begin
                for g in select generation from projections.generations where projection = 'job_states' loop
                    execute format('drop index if exists projections.%I', 'job_states_g' || g.generation || '_phase');
                end loop;
            end
            $$;

            create table projections.job_signal_rows (
                generation     int not null,
                job_id         text not null,
                last_signal_at timestamptz
            ) partition by list (generation);
            create index job_signal_rows_signal on projections.job_signal_rows (coalesce(last_signal_at, '-infinity'::timestamptz), job_id);
            do $$
            declare
                g record;
            begin
                for g in select generation from projections.generations
                          where projection = 'job_states' and state in ('active', 'building') loop
                    execute format('create table projections.%I partition of projections.job_signal_rows for values in (%s) with (fillfactor = 50)',
                                   'job_signals_g' || g.generation, g.generation);
                    execute format('alter table projections.%I add primary key (job_id)', 'job_signals_g' || g.generation);
                    insert into projections.job_signal_rows (generation, job_id, last_signal_at)
                        select generation, job_id, last_signal_at from projections.job_state_rows where generation = g.generation;
                end loop;
            end
            $$;
            create view projections.job_signals as
                select job_id, last_signal_at
                  from projections.job_signal_rows
                 where generation = (select generation from projections.generations where projection = 'job_states' and state = 'active');
            """),
        // A job-state row outgrows PostgreSQL's 2 kB TOAST threshold (the lifecycle snapshot alone is 1.6 kB with 30
        // samples in its window), so every flush compresses each row written; pglz made that a large share of the
        // Projector's database CPU (README, Performance). lz4 compresses about four times cheaper for a somewhat larger
        // value. Existing generations are altered too (a new partition takes its parent's setting); rows written
        // before keep pglz until rewritten. A server built without lz4 keeps pglz.
        new(55, "job_state_rows_lz4", """
            do $$
            declare
                g record;
            begin
                alter table projections.job_state_rows
                    alter column lifecycle set compression lz4, alter column criteria set compression lz4,
                    alter column metrics set compression lz4, alter column labels set compression lz4;
                for g in select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
                          where i.inhparent = 'projections.job_state_rows'::regclass loop
                    execute format('alter table projections.%I alter column lifecycle set compression lz4, alter column criteria set compression lz4, '
                                   'alter column metrics set compression lz4, alter column labels set compression lz4', g.relname);
                end loop;
            exception when feature_not_supported then
                raise notice 'lz4 is not available on this server: job-state rows stay compressed with pglz';
            end
            $$;
            """),
        // A row no longer carries its criteria's report (a third of its bytes, rewritten with every write, read by nothing
        // here): the job's page evaluates the criteria from the lifecycle snapshot when it is read.
        new(56, "job_state_rows_without_criteria", """
            drop view if exists projections.phase_counts;
            drop view if exists projections.job_states;
            alter table projections.job_state_rows drop column if exists criteria;

            create view projections.job_states as
                select job_id, policy, phase, assigned_at, phase_since, awaiting_ack, last_reported_phase, last_seq, last_signal_at,
                       stream_version, phase_changes, last_direction, last_changed_at, stuck, regressed, flags, metrics,
                       labels, lifecycle, waiting_for, updated_at
                  from projections.job_state_rows
                 where generation = (select generation from projections.generations where projection = 'job_states' and state = 'active');

            """ + PhaseCountsView),
        // The jobs list's id-prefix filter: in the C collation a prefix is a range of this index (the primary key's, in the
        // database's collation, is not), so a prefix reads its matches only.
        new(57, "job_state_rows_id_prefix_index", """
            create index if not exists job_state_rows_id_c on projections.job_state_rows ((job_id collate "C"));
            """),
    ];
}
