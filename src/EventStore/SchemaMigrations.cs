namespace Streaming.EventStore;

/// <summary>The event store's own schema history (versions 1-19, see <see cref="SchemaMigration"/>). Append new steps; never change a released one.</summary>
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
        // 10-14: commit-ordered positions (README, Architecture). Every transaction that appends to es.events ends by
        // taking the log head's row lock and recording its commit there; PostgreSQL releases that lock only once the
        // commit is visible, so commits become visible in commit-number order and a tail reading by (commit, position)
        // never waits for any other transaction. Writers that do not promise to record their commit (raw SQL, older
        // code) get it recorded by a deferred trigger at their commit. Existing events get commits in the order the tail
        // read them until now (by transaction id); taking the table lock first lets appends in flight finish and holds
        // new ones until the trigger is in place, so no event is left without a commit.
        new(10, "log_commits", """
            lock table es.events in share row exclusive mode;

            create table es.log_head (
                id          int primary key check (id = 1),
                last_commit bigint not null
            );

            create table es.commits (
                commit       bigint primary key,
                tx_id        xid8 not null,
                committed_at timestamptz not null,
                constraint commits_tx_id_key unique (tx_id)
            );

            -- The last statement of an appending transaction: holds the log head's lock until the commit is visible. A
            -- transaction that appended nothing records nothing and takes no lock.
            create function es.record_commit() returns table (commit bigint, committed_at timestamptz)
            language sql as $$
                with head as (
                    update es.log_head set last_commit = last_commit + 1
                     where id = 1 and exists (select from es.events where tx_id = pg_current_xact_id_if_assigned())
                    returning last_commit
                )
                insert into es.commits (commit, tx_id, committed_at)
                select last_commit, pg_current_xact_id(), clock_timestamp() from head
                returning commit, committed_at
            $$;

            create function es.record_commit_once() returns trigger language plpgsql as $$
            begin
                if not exists (select from es.commits where tx_id = pg_current_xact_id()) then
                    perform es.record_commit();
                end if;
                return null;
            end
            $$;

            -- Fires at commit, so after the transaction's last statement, only for rows written without the promise.
            create constraint trigger events_record_commit
                after insert on es.events
                deferrable initially deferred
                for each row
                when (current_setting('es.records_commit', true) is distinct from 'on')
                execute function es.record_commit_once();

            -- Commit order gives each stream version order by itself (see StreamLock): no writer is refused any more.
            create or replace function es.lock_streams(stream_ids text[]) returns void language plpgsql as $$
            begin
                insert into es.streams (stream_id, version, last_tx_id)
                select s, 0, pg_current_xact_id() from (select distinct s from unnest(stream_ids) s) ids order by s
                on conflict (stream_id) do nothing;
                perform from es.streams where stream_id = any(stream_ids) order by stream_id for update;
            end
            $$;

            insert into es.commits (commit, tx_id, committed_at)
            select row_number() over (order by tx_id), tx_id, max(recorded_at)
              from es.events
             group by tx_id;

            insert into es.log_head (id, last_commit) select 1, coalesce(max(commit), 0) from es.commits;
            """),
        // Positions saved as (tx_id, position) move to (commit, position). A saved position names the last event read, so
        // its transaction has a commit now and the position keeps its meaning exactly; one that names no stored
        // transaction (nothing newer than the start) goes to the end of the last commit below it. The archive's blocks
        // carry positions inside their bodies, so they are dropped with the archive's checkpoint and folded again from
        // the log.
        new(11, "positions_by_commit", """
            create function pg_temp.by_commit(tx xid8, pos bigint, out at_commit bigint, out at_position bigint) language sql as $$
                select coalesce(exact.commit, below.commit, 0),
                       case when exact.commit is not null then pos
                            else coalesce((select max(e.global_position) from es.events e where e.tx_id = below.tx_id), 0) end
                  from (select 1) one
                  left join es.commits exact on exact.tx_id = tx
                  left join lateral (select c.commit, c.tx_id from es.commits c where c.tx_id < tx
                                      order by c.tx_id desc limit 1) below on exact.commit is null
            $$;

            alter table es.checkpoints add column commit bigint;
            update es.checkpoints k set (commit, position) = (select p.at_commit, p.at_position from pg_temp.by_commit(k.tx_id, k.position) p);
            alter table es.checkpoints alter column commit set not null, drop column tx_id;

            delete from es.checkpoints where name = 'history-archive';
            drop table es.history_blocks;
            create table es.history_blocks (
                end_commit   bigint not null,
                end_position bigint not null,
                events       int not null check (events > 0),
                body         bytea not null,
                primary key (end_commit, end_position)
            );
            alter table es.history_blocks alter column body set storage external;

            alter table es.poisoned_events add column commit bigint;
            update es.poisoned_events k set commit = (select p.at_commit from pg_temp.by_commit(k.tx_id, k.global_position) p);
            alter table es.poisoned_events drop constraint poisoned_events_pkey;
            alter table es.poisoned_events alter column commit set not null, drop column tx_id;
            alter table es.poisoned_events add primary key (fold, commit, global_position);
            """),
        // The stream-head lock has one implementation, StreamLock's statements, which both append paths run.
        new(15, "one_stream_lock", """
            drop function if exists es.lock_streams(text[]);
            """),
        // 16: a leaner append (issue 19). last_tx_id has had no reader since commits are recorded (migration 10).
        // Signals (seq not null) are unique per (stream, seq) without an index: one is stored only above its stream's
        // last_seq, read under the stream's lock, and its event id is derived from (stream, seq); so only the other events
        // (decisions, policies, overrides, whose writers append them once by id) need the store to refuse a second copy
        // by id. For a signal that index was a B-tree insert on a random leaf page (a random UUID), for nothing.
        // record_commit() also wakes the log's listeners, so an append needs no statement of its own for that, and a
        // writer whose commit the deferred trigger records wakes them too.
        new(16, "leaner_append", """
            alter table es.streams drop column last_tx_id;

            alter table es.events drop constraint events_event_id_key;
            create unique index events_event_id_key on es.events (event_id) where seq is null;

            create or replace function es.record_commit() returns table (commit bigint, committed_at timestamptz)
            language plpgsql as $$
            #variable_conflict use_column
            begin
                return query
                    with head as (
                        update es.log_head set last_commit = last_commit + 1
                         where id = 1 and exists (select from es.events where tx_id = pg_current_xact_id_if_assigned())
                        returning last_commit
                    )
                    insert into es.commits (commit, tx_id, committed_at)
                    select last_commit, pg_current_xact_id(), clock_timestamp() from head
                    returning commit, committed_at;
                if found then
                    perform pg_notify('es_events', '');
                end if;
            end
            $$;
            """),
    ];
}
