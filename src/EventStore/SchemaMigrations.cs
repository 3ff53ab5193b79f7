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
    ];
}
