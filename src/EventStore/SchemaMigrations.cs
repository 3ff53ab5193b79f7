namespace Streaming.EventStore;

/// <summary>The event store's own schema history (versions 1-19, then 30-39, see <see cref="SchemaMigration"/>). Append new steps; never change a released one.</summary>
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
        // 17: the log per partition (issue 22; README, Architecture). P is fixed when the store is created (MigrateAsync's
        // LogPartitioning, through the session settings below; 1 when none is given); a stream's partition is the rule of
        // LogPartitioner, here in SQL for every writer (the stream's row takes it when created, its events copy it).
        // Every appending transaction records one commit per partition it appended to, taking those partitions' heads
        // in partition order. With P = 1 nothing moves: every row is partition 0 and the commits keep their numbers.
        // With P > 1 existing commits are renumbered per partition in today's order, and checkpoints, poisoned events
        // and the archive (dropped, folded again) follow them.
        new(17, "log_partitions", """
            lock table es.events in share row exclusive mode;

            create table es.log_partitioning (
                id               int primary key check (id = 1),
                partitions       int not null check (partitions > 0),
                control_prefixes text[] not null
            );
            insert into es.log_partitioning (id, partitions, control_prefixes)
            values (1,
                    coalesce(nullif(current_setting('es.log_partitions', true), '')::int, 1),
                    coalesce(array(select json_array_elements_text(nullif(current_setting('es.control_prefixes', true), '')::json)), '{}'));

            -- Kafka's murmur2 (the Java client's default partitioner); 32-bit arithmetic in bigint, masked.
            create function es.murmur2(key bytea) returns int language plpgsql immutable strict parallel safe as $$
            declare
                m constant bigint := 1540483477;
                mask constant bigint := 4294967295;
                len int := length(key);
                whole int := len & ~3;
                h bigint := 2538058380 # len;
                k bigint;
                i int := 0;
            begin
                while i < whole loop
                    k := get_byte(key, i)::bigint | (get_byte(key, i + 1)::bigint << 8) | (get_byte(key, i + 2)::bigint << 16)
                         | (get_byte(key, i + 3)::bigint << 24);
                    k := (k * m) & mask;
                    k := k # (k >> 24);
                    k := (k * m) & mask;
                    h := ((h * m) & mask) # k;
                    i := i + 4;
                end loop;
                if len & 3 = 3 then h := h # (get_byte(key, whole + 2)::bigint << 16); end if;
                if len & 3 >= 2 then h := h # (get_byte(key, whole + 1)::bigint << 8); end if;
                if len & 3 >= 1 then h := ((h # get_byte(key, whole)::bigint) * m) & mask; end if;
                h := h # (h >> 13);
                h := (h * m) & mask;
                h := h # (h >> 15);
                return (case when h >= 2147483648 then h - 4294967296 else h end)::int;
            end
            $$;

            create function es.partition_of(stream_id text) returns int language plpgsql stable parallel safe as $$
            declare
                settings es.log_partitioning;
            begin
                select * into settings from es.log_partitioning;
                if settings.partitions = 1 or exists (select from unnest(settings.control_prefixes) p where starts_with(stream_id, p)) then
                    return 0;
                end if;
                return (es.murmur2(convert_to(stream_id, 'UTF8')) & 2147483647) % settings.partitions;
            end
            $$;

            -- Constant defaults fill existing rows without rewriting them, and with one partition stay: every row is in
            -- partition 0, whichever writer names none (checkpoints and poisoned events too). With several, new rows get theirs from the triggers below unless the writer names it (the
            -- append paths do).
            alter table es.streams add column partition int not null default 0;
            alter table es.events add column partition int not null default 0;

            create function es.stream_partition() returns trigger language plpgsql as $$
            begin
                new.partition := es.partition_of(new.stream_id);
                return new;
            end
            $$;
            create trigger streams_partition before insert on es.streams
                for each row when (new.partition is null) execute function es.stream_partition();

            create function es.event_partition() returns trigger language plpgsql as $$
            begin
                new.partition := coalesce((select s.partition from es.streams s where s.stream_id = new.stream_id), es.partition_of(new.stream_id));
                return new;
            end
            $$;
            create trigger events_partition before insert on es.events
                for each row when (new.partition is null) execute function es.event_partition();

            alter table es.log_head drop constraint log_head_id_check;
            alter table es.log_head rename column id to partition;
            update es.log_head set partition = 0;
            insert into es.log_head (partition, last_commit)
            select p, 0 from generate_series(1, (select partitions - 1 from es.log_partitioning)) p;

            alter table es.commits add column partition int not null default 0;
            alter table es.commits alter column partition drop default;
            alter table es.commits drop constraint commits_pkey, drop constraint commits_tx_id_key;
            alter table es.commits add primary key (partition, commit), add constraint commits_tx_id_key unique (tx_id, partition);

            alter table es.checkpoints add column partition int not null default 0;
            alter table es.checkpoints drop constraint checkpoints_pkey;
            alter table es.checkpoints add primary key (name, partition);

            alter table es.poisoned_events add column partition int not null default 0;
            alter table es.poisoned_events drop constraint poisoned_events_pkey;
            alter table es.poisoned_events add primary key (fold, partition, commit, global_position);

            do $$
            declare
                partitions int := (select l.partitions from es.log_partitioning l);
            begin
                if partitions = 1 then
                    return;
                end if;
                alter table es.streams alter column partition drop default;
                alter table es.events alter column partition drop default;
                alter table es.checkpoints alter column partition drop default;
                alter table es.poisoned_events alter column partition drop default;
                -- A transaction's partitions are found in its own rows, one index probe per partition it touched, and a
                -- tail reads a commit's events of one partition: the same index, in place of (tx_id, global_position).
                create index events_tx_partition_idx on es.events (tx_id, partition, global_position);
                drop index es.events_tail_idx;

                -- Every stream with events, whether or not a writer made its row, once through the hash.
                create temporary table placed on commit drop as
                select s.stream_id, es.partition_of(s.stream_id) as partition
                  from (select stream_id from es.streams union select distinct stream_id from es.events) s;
                update es.streams s set partition = p.partition from placed p where p.stream_id = s.stream_id and p.partition <> 0;
                alter table es.events disable trigger events_append_only;
                update es.events e set partition = p.partition from placed p where p.stream_id = e.stream_id and p.partition <> 0;
                alter table es.events enable trigger events_append_only;

                create temporary table renumbered on commit drop as
                select t.partition, t.old_commit,
                       row_number() over (partition by t.partition order by t.old_commit) as commit, t.tx_id, t.committed_at
                  from (select distinct e.partition, c.commit as old_commit, c.tx_id, c.committed_at
                          from es.commits c join es.events e on e.tx_id = c.tx_id) t;

                -- A position (C, G) said: every event up to commit C, position G, was read. In partition p that is the
                -- last of p's events at or before it (the start when none).
                create temporary table moved on commit drop as
                select k.name, p.partition, coalesce(last.commit, 0) as commit, coalesce(last.global_position, 0) as position, k.updated_at
                  from es.checkpoints k
                 cross join generate_series(0, partitions - 1) as p(partition)
                  left join lateral (
                      select r.commit, e.global_position
                        from renumbered r join es.events e on e.tx_id = r.tx_id and e.partition = r.partition
                       where r.partition = p.partition and (r.old_commit, e.global_position) <= (k.commit, k.position)
                       order by r.commit desc, e.global_position desc
                       limit 1) last on true
                 where k.name <> 'history-archive';
                delete from es.checkpoints;
                insert into es.checkpoints (name, partition, commit, position, updated_at)
                select name, partition, commit, position, updated_at from moved;

                alter table es.poisoned_events drop constraint poisoned_events_pkey;
                update es.poisoned_events k set (partition, commit) = (
                    select r.partition, r.commit from renumbered r join es.events e on e.tx_id = r.tx_id and e.partition = r.partition
                     where r.old_commit = k.commit and e.global_position = k.global_position);
                alter table es.poisoned_events add primary key (fold, partition, commit, global_position);

                delete from es.commits;
                insert into es.commits (partition, commit, tx_id, committed_at)
                select partition, commit, tx_id, committed_at from renumbered;
                update es.log_head h set last_commit = coalesce((select max(c.commit) from es.commits c where c.partition = h.partition), 0);

                -- The archive's blocks follow the single log's order: folded again, per partition, from the log.
                delete from es.history_blocks;
            end
            $$;

            -- The first firing in an appending transaction records one commit in every partition it appended to, taking
            -- those heads in partition order (so two writers never deadlock), and wakes the log's listeners with the
            -- partitions; a transaction that appended nothing records nothing and takes no lock.
            drop function es.record_commit();
            create function es.record_commit() returns table (commit bigint, committed_at timestamptz, partition int)
            language plpgsql as $$
            #variable_conflict use_column
            declare
                tx xid8 := pg_current_xact_id_if_assigned();
                touched int[];
                p int;
                reached bigint;
                at timestamptz;
            begin
                if tx is null then
                    return;
                end if;
                if (select l.partitions from es.log_partitioning l) = 1 then
                    touched := case when exists (select from es.events e where e.tx_id = tx) then array[0] end;
                else
                    with recursive found(p) as (
                        select min(e.partition) from es.events e where e.tx_id = tx
                        union all
                        select (select min(e.partition) from es.events e where e.tx_id = tx and e.partition > found.p)
                          from found where found.p is not null
                    )
                    select array_agg(found.p order by found.p) into touched from found where found.p is not null;
                end if;
                if touched is null then
                    return;
                end if;
                foreach p in array touched loop
                    update es.log_head h set last_commit = h.last_commit + 1 where h.partition = p returning h.last_commit into reached;
                    at := clock_timestamp();
                    insert into es.commits (partition, commit, tx_id, committed_at) values (p, reached, pg_current_xact_id(), at);
                    return query select reached, at, p;
                end loop;
                perform pg_notify('es_events', array_to_string(touched, ','));
            end
            $$;
            """),
        // 18: no row trigger before inserts into es.events: PostgreSQL's COPY inserts row by row, not in its buffered
        // batches, into a table with one, and Ingest appends by COPY. Every writer names the event's partition (its
        // stream's, from the stream's row; 0 while the log has one partition, the column's default then); one that
        // names none with several partitions is refused (not null).
        new(18, "events_without_row_trigger", """
            drop trigger events_partition on es.events;
            drop function es.event_partition();
            """),
        // 19: the history archive per log partition: a block holds one partition's events and ends at a position of that
        // partition (blocks of a one-partition log are partition 0's; migration 17 deleted those of a log split in several).
        new(19, "history_blocks_per_partition", """
            alter table es.history_blocks add column partition int not null default 0;
            alter table es.history_blocks drop constraint history_blocks_pkey;
            alter table es.history_blocks add primary key (partition, end_commit, end_position);
            """),
        // 30: the tail read walks a partition's commits in order and takes each one's events by index, in order, until it
        // has as many as asked: its work follows what it returns, however far behind the head the reader is. As one join
        // ordered by (commit, position), the planner sorted every event from the reader's commit to the head whenever it
        // guessed few commits there (es.commits grows faster than its statistics), so a reader behind the head read, and
        // sorted on disk, all of its lag at every read and fell further behind (README, Performance).
        new(30, "tail_read_bounded_by_its_count", """
            create function es.read_tail(p int, after_commit bigint, after_position bigint, max_count int)
            returns table (global_position bigint, commit bigint, stream_id text, version bigint, event_id uuid, type text,
                           data json, metadata json, seq bigint, event_time timestamptz, recorded_at timestamptz,
                           committed_at timestamptz, partition int)
            -- Both reads have an index in the order asked for ((partition, commit) and (tx_id[, partition], global_position)):
            -- without sorts the planner must walk them and stop at the count, where a top-N sort of the whole commit would
            -- fetch every event of it first.
            language plpgsql stable set enable_sort = off as $$
            #variable_conflict use_column
            declare
                k record;
                wanted int := max_count;
                taken int;
            begin
                if wanted <= 0 then
                    return;
                end if;
                for k in select c.commit, c.tx_id, c.committed_at from es.commits c
                          where c.partition = p and c.commit >= after_commit order by c.commit loop
                    return query
                        select e.global_position, k.commit, e.stream_id, e.version, e.event_id, e.type, e.data, e.metadata,
                               e.seq, e.event_time, e.recorded_at, k.committed_at, p
                          from es.events e
                         where e.tx_id = k.tx_id and e.partition = p
                           and e.global_position > case when k.commit = after_commit then after_position else 0 end
                         order by e.global_position
                         limit wanted;
                    get diagnostics taken = row_count;
                    wanted := wanted - taken;
                    exit when wanted <= 0;
                end loop;
            end
            $$;
            """),
        // 31: one write per stream head (issue 19). Ingest locked its streams' heads (select … for no key update, a write
        // of each row's lock) and updated them before its commit (a second write). es.move_heads does both in one UPDATE,
        // in stream order as the lock was taken (so it cannot deadlock with StreamLock.Heads): each head moves past the
        // seqs given for it that rise above its last seq (each stream's given seqs rise), and the row keeps the head it
        // replaced, which the update returns, because RETURNING sees only the new row. With 5,000 of 10,000 heads a
        // batch, it took 0.83-0.85 of the lock and the update's backend CPU (README, Performance).
        new(31, "one_write_per_stream_head", """
            alter table es.streams add column previous_version bigint, add column previous_last_seq bigint;

            create function es.move_heads(stream_ids text[], firsts int[], counts int[], rising_seqs bigint[])
            returns table (stream_id text, previous_version bigint, previous_last_seq bigint, partition int, version bigint, last_seq bigint)
            -- A hash join or a sequential scan would take the rows' locks out of stream order.
            language sql set enable_hashjoin = off set enable_seqscan = off as $$
                update es.streams s
                   set previous_version = s.version,
                       previous_last_seq = s.last_seq,
                       version = s.version + h.count - coalesce(width_bucket(s.last_seq, $4[h.first : h.first + h.count - 1]), 0),
                       last_seq = greatest(s.last_seq, $4[h.first + h.count - 1]),
                       updated_at = now()
                  from (select u.stream_id, u.first, u.count from unnest($1, $2, $3) as u(stream_id, first, count) order by u.stream_id) h
                 where s.stream_id = h.stream_id
                returning s.stream_id, s.previous_version, s.previous_last_seq, s.partition, s.version, s.last_seq
            $$;
            """),
        // 32: a writer without the promise to record its commit (LogCommit) still gets it recorded at its commit, but
        // noticed once per statement, not once per row: a row trigger on es.events, even one whose WHEN is false, cost
        // a COPY about 7% of its backend CPU per row (README, Performance). The statement trigger notes the transaction
        // in es.unrecorded_commits, whose deferred trigger records the commit when the transaction commits (after its
        // last statement, as before) and removes the note.
        new(32, "commit_recorded_per_statement", """
            create table es.unrecorded_commits (tx_id xid8 primary key);

            create function es.note_unrecorded_commit() returns trigger language plpgsql as $$
            begin
                insert into es.unrecorded_commits (tx_id) values (pg_current_xact_id()) on conflict do nothing;
                return null;
            end
            $$;

            create function es.record_noted_commit() returns trigger language plpgsql as $$
            begin
                delete from es.unrecorded_commits where tx_id = new.tx_id;
                if not exists (select from es.commits where tx_id = new.tx_id) then
                    perform es.record_commit();
                end if;
                return null;
            end
            $$;

            create constraint trigger unrecorded_commits_record
                after insert on es.unrecorded_commits
                deferrable initially deferred
                for each row
                execute function es.record_noted_commit();

            drop trigger events_record_commit on es.events;
            drop function es.record_commit_once();

            create trigger events_note_unrecorded_commit
                after insert on es.events
                for each statement
                when (current_setting('es.records_commit', true) is distinct from 'on')
                execute function es.note_unrecorded_commit();
            """),
        // 33: signals are stored without metadata (issue 19): it held the Kafka topic, partition and offset each came from,
        // a JSON text per row for PostgreSQL to check and keep (about 8% of a COPY's backend CPU, 63 bytes a row), read by
        // no service; Ingest's stored offsets say how far each partition is stored. Other events keep theirs.
        new(33, "signals_without_metadata", """
            alter table es.events alter column metadata drop not null;
            """),
    ];
}
