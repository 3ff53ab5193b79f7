namespace Streaming.EventStore;

/// <summary>The event store's schema history. Append new steps; never change a released one.</summary>
internal static class SchemaMigrations
{
    public static readonly IReadOnlyList<SchemaMigration> All =
    [
        new(1, "streams_and_events", """
            create table es.streams (
                stream_id  text primary key,
                version    bigint not null check (version >= 1),
                last_seq   bigint,
                created_at timestamptz not null default now(),
                updated_at timestamptz not null default now()
            );

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

            -- 1702035457 (0x65730001) is the class of the two-key advisory locks that serialize appends per stream bucket.
            create function es.lock_streams(stream_ids text[]) returns void language plpgsql as $$
            declare
                buckets int[];
                bucket int;
            begin
                select coalesce(array_agg(distinct b order by b), '{}')
                  into buckets
                  from (select (hashtextextended(s, 0) & 1023)::int as b from unnest(stream_ids) s) x;
                if pg_current_xact_id_if_assigned() is null then
                    foreach bucket in array buckets loop
                        perform pg_advisory_xact_lock(1702035457, bucket);
                    end loop;
                    return;
                end if;
                -- Already writing: safe only if this transaction took these locks before it wrote anything.
                if exists (
                    select 1 from unnest(buckets) b
                    where not exists (
                        select 1 from pg_locks l
                        where l.locktype = 'advisory' and l.pid = pg_backend_pid() and l.granted
                          and l.classid = 1702035457::oid and l.objid = b::oid and l.objsubid = 2)) then
                    raise exception 'es.lock_streams: the transaction wrote before locking its streams'
                        using errcode = 'ES001',
                              hint = 'Append (or call EventStreams.LockAsync for every stream) before any other write in the transaction.';
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
    ];
}
