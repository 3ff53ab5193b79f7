namespace Streaming.EventStore;

/// <summary>The event store's schema history. Append new steps; never change a released one.</summary>
internal static class SchemaMigrations
{
    public static readonly IReadOnlyList<SchemaMigration> All =
    [
        new(1, "streams_and_events", """
            create table es.streams (
                stream_id  text primary key,
                version    bigint not null check (version >= 0),
                last_seq   bigint,
                last_tx_id xid8 not null,
                created_at timestamptz not null default now(),
                updated_at timestamptz not null default now()
            ) with (fillfactor = 50);

            create table es.events (
                global_position bigint generated always as identity primary key,
                tx_id           xid8 not null default pg_current_xact_id(),
                stream_id       text not null,
                version         bigint not null check (version >= 1),
                event_id        uuid not null,
                type            text not null,
                data            jsonb not null,
                metadata        jsonb not null,
                seq             bigint,
                event_time      timestamptz not null,
                recorded_at     timestamptz not null default now(),
                constraint events_stream_version_key unique (stream_id, version),
                constraint events_event_id_key unique (event_id)
            );

            create index events_tail_idx on es.events (tx_id, global_position);
            create unique index events_stream_seq_key on es.events (stream_id, seq) where seq is not null;

            create function es.reject_event_change() returns trigger language plpgsql as $$
            begin
                raise exception 'es.events is append-only: % is not allowed', tg_op
                    using errcode = 'restrict_violation', table = 'events', schema = 'es';
            end
            $$;

            create trigger events_append_only
                before update or delete or truncate on es.events
                for each statement execute function es.reject_event_change();

            -- Locks the streams' rows in one order (so writers never deadlock), creating rows for new streams, and refuses
            -- when a stream's last appender has a higher xid than this transaction: see StreamLock for why.
            create function es.lock_streams(stream_ids text[]) returns void language plpgsql as $$
            declare
                newest xid8;
            begin
                insert into es.streams (stream_id, version, last_tx_id)
                select s, 0, pg_current_xact_id() from (select distinct s from unnest(stream_ids) s) ids order by s
                on conflict (stream_id) do nothing;
                select max(last_tx_id) into newest
                  from (select last_tx_id from es.streams where stream_id = any(stream_ids) order by stream_id for update) locked;
                if newest > pg_current_xact_id() then
                    raise exception 'a transaction that began writing later has appended to one of these streams; retry'
                        using errcode = 'serialization_failure';
                end if;
            end
            $$;
            """),
        new(2, "kafka_offsets", """
            create table es.kafka_offsets (
                consumer_group text not null,
                topic          text not null,
                partition      int not null,
                next_offset    bigint not null check (next_offset >= 0),
                updated_at     timestamptz not null default now(),
                primary key (consumer_group, topic, partition)
            );
            """),
        new(3, "checkpoints", """
            create table es.checkpoints (
                name       text primary key,
                tx_id      xid8 not null,
                position   bigint not null,
                updated_at timestamptz not null default now()
            );
            """),
        // Bodies are opaque to the store and only ever read back whole: json keeps the text as appended, costs a
        // syntax check instead of a conversion on append, and is sent back without one on every read.
        new(4, "event_bodies_as_json", """
            alter table es.events
                alter column data type json using data::json,
                alter column metadata type json using metadata::json;
            """),
        // The history archive: the log in blocks of a compact encoding, each ending at the commit-order position of
        // its last event, written beside its checkpoint by the archive projection and read by backtests. Stored
        // uncompressed: it is already compact, and reading it back must cost PostgreSQL next to nothing.
        new(5, "history_blocks", """
            create table es.history_blocks (
                end_tx_id    xid8 not null,
                end_position bigint not null,
                events       int not null check (events > 0),
                body         bytea not null,
                primary key (end_tx_id, end_position)
            );
            alter table es.history_blocks alter column body set storage external;
            """),
        // A signal is stored only with a seq above its stream's last (read under the stream's lock), and its event id is
        // derived from (stream, seq), so the unique event id already refuses a second copy: this index only cost every
        // append (SignalLog) a B-tree insert.
        new(6, "drop_stream_seq_index", """
            drop index if exists es.events_stream_seq_key;
            """),
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
        // The Promoter's state, saved with its folds' checkpoints. Earlier builds created these tables themselves; one
        // that kept each job's state as JSON (promoter.job_lifecycles) is dropped with its checkpoint, and the decisions
        // fold starts over from the log, re-making the same decisions (their ids derive from the deciding signal, so the
        // store refuses the copies).
        new(8, "promoter_schema", """
            create schema if not exists promoter;
            create table if not exists promoter.job_lifecycle_snapshots (
                job_id     text primary key,
                snapshot   bytea not null,
                updated_at timestamptz not null default now()
            );
            create table if not exists promoter.fleet_state (
                id         int primary key check (id = 1),
                snapshot   jsonb not null,
                updated_at timestamptz not null default now()
            );
            create table if not exists promoter.shadow_tracks (
                job_id     text primary key,
                tracks     bytea not null,
                updated_at timestamptz not null default now()
            );
            create table if not exists promoter.shadow_agreement (
                policy       text primary key,
                agreed       bigint not null,
                live_only    bigint not null,
                shadow_only  bigint not null,
                open         bigint not null,
                lead_seconds double precision not null,
                updated_at   timestamptz not null default now()
            );
            do $$
            begin
                if to_regclass('promoter.job_lifecycles') is not null then
                    drop table promoter.job_lifecycles;
                    delete from es.checkpoints where name = 'promoter:decisions';
                end if;
            end
            $$;
            """),
        // Events a fold could not apply (a body that does not decode, a value the domain refuses): the fold skips the
        // event for that stream only, records it here in the transaction that moves its checkpoint, and goes on.
        new(9, "poisoned_events", """
            create table es.poisoned_events (
                fold            text not null,
                tx_id           xid8 not null,
                global_position bigint not null,
                stream_id       text not null,
                version         bigint not null,
                event_type      text not null,
                error           text not null,
                recorded_at     timestamptz not null default now(),
                primary key (fold, tx_id, global_position)
            );
            """),
        // 20-29: the operator surface (src/Api). Bearer tokens, stored as their SHA-256 only (a token is 32 random bytes,
        // so no salt or slow hash is needed to make its digest useless to a reader of this table).
        new(20, "api_tokens", """
            create schema if not exists api;
            create table api.tokens (
                token_sha256 bytea primary key,
                name         text not null,
                role         text not null check (role in ('viewer', 'operator', 'admin')),
                created_at   timestamptz not null default now(),
                revoked_at   timestamptz
            );
            """),
        // The fleet's history, folded from the log by FleetHistoryFold: every decision (the feed), moves per hour of
        // event time, each job's phase and the jobs per phase at the end of each hour of event time.
        new(21, "fleet_history", """
            create schema if not exists fleet;
            create table fleet.decisions (
                global_position bigint primary key,
                event_id        uuid not null unique,
                job_id          text not null,
                from_phase      text not null,
                to_phase        text not null,
                direction       text not null,
                policy          text not null,
                policy_name     text not null,
                decided_at      timestamptz not null,
                recorded_at     timestamptz not null,
                reason          text not null
            );
            create index decisions_decided_at on fleet.decisions (decided_at);
            create index decisions_job on fleet.decisions (job_id, global_position);
            create table fleet.moves_per_hour (
                hour      timestamptz not null,
                direction text not null,
                policy    text not null,
                moves     int not null,
                primary key (hour, direction, policy)
            );
            create table fleet.job_phases (
                job_id text primary key,
                phase  text not null
            );
            create table fleet.phase_history (
                hour  timestamptz not null,
                phase text not null,
                jobs  int not null,
                primary key (hour, phase)
            );
            """),
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
    ];
}
