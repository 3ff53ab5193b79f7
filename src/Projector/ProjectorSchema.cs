using Streaming.EventStore;

namespace Streaming.Projector;

/// <summary>The Projector's tables and views (schema <c>projections</c>), in the store's one version space (see <see cref="SchemaMigration"/>).</summary>
public static class ProjectorSchema
{
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
            """),
    ];
}
