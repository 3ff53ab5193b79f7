#!/usr/bin/env bash
# What each part of an append costs PostgreSQL, measured in its backend's CPU (README, Performance, "A leaner append"):
#   scripts/append-costs.sh PORT [BATCHES]
# against a PostgreSQL 15 on 127.0.0.1:PORT (user postgres; e.g. scripts/postgres.sh start DIR PORT), in a database of
# its own (append_costs, dropped and made again). It COPYs the same binary files of signal-shaped rows (10,000 jobs,
# 200,000 rows first, then BATCHES batches of 10,000, default 10) into tables shaped like es.events, each without one
# index, trigger or column type of it, one batch into every table in turn (shuffled), and reports per table the median
# over batches of its CPU per row against the table with every part's on the same batch (paired, so the machine's load cancels
# out). Then the stream heads: locking 5,000 of 10,000 heads and updating them (two writes per head) against one UPDATE
# that moves and returns them (es.move_heads), 40 batches each, interleaved. CPU time is the backend's own, from
# /proc/self/schedstat (pg_read_file, so the user must be a superuser and the server on this machine).
set -euo pipefail
port=${1:?PORT}
batches=${2:-10}
dir=$(mktemp -d /tmp/append-costs.XXXXXX)
chmod 777 "$dir"
trap 'rm -rf "$dir"' EXIT
admin=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres)
"${admin[@]}" -c "drop database if exists append_costs with (force)" -c "create database append_costs"
db=("${admin[@]}" -d append_costs)

"${db[@]}" >/dev/null <<SQL
create function cpu_ns() returns bigint language sql as \$\$ select split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::bigint \$\$;
create table src as
select 'bench-' || team || '-' || j as stream_id, (m + 1)::bigint as version, gen_random_uuid() as event_id, 'signal-recorded/v1'::text as type,
       json_build_object('schema', 'job-signal/v1', 'jobId', 'bench-' || team || '-' || j,
         'emittedAt', to_char(timestamptz '2026-01-01' + make_interval(mins => m), 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'seq', m + 1, 'phase', 'shadow',
         'metrics', json_build_object('checksum_mismatch_rate', 0.0001 * ((n * 7919) % 10) / 10, 'landing_latency_p95_ms', 700 + (n * 104729) % 300, 'error_rate', 0.0005),
         'labels', json_build_object('team', team, 'region', 'eu'), 'correlationId', 'bench-' || n)::text as data,
       '{"source":{"topic":"job-signals","partition":' || (n % 12) || ',"offset":' || (n / 12) || '}}' as metadata,
       (m + 1)::bigint as seq, timestamptz '2026-01-01' + make_interval(mins => m) as event_time, n
  from generate_series(0::bigint, 200000 + $batches * 10000 - 1) n,
       lateral (select (n % 10000)::int as j, (n / 10000)::int as m, (array['orders','payments','inventory','users','shipping'])[1 + (n % 10000)::int % 5] as team) x;
do \$\$ begin
  for b in -1..$batches - 1 loop
    execute format(\$f\$copy (select stream_id, version, event_id, type, data, metadata, seq, event_time, 0 from src where n >= %s and n < %s order by n) to '$dir/batch%s.bin' (format binary)\$f\$,
                   case when b < 0 then 0 else 200000 + b * 10000 end, 200000 + (b + 1) * 10000, b);
    execute format(\$f\$copy (select stream_id, version, event_id, type, data, seq, event_time, 0 from src where n >= %s and n < %s order by n) to '$dir/batch%s_nometa.bin' (format binary)\$f\$,
                   case when b < 0 then 0 else 200000 + b * 10000 end, 200000 + (b + 1) * 10000, b);
  end loop;
end \$\$;
create function record_nothing() returns trigger language plpgsql as \$\$ begin return null; end \$\$;
-- A table shaped like es.events (one partition), less what the arguments leave out; filled with the first 200,000 rows.
create function shaped(name text, sv bool = true, tail bool = true, pk bool = true, row_trigger bool = true, statement_trigger bool = false,
                       body text = 'json', coll text = '', metadata bool = true) returns void language plpgsql as \$\$
begin
  execute format(\$d\$create table %I (
    global_position bigint generated always as identity %s, tx_id xid8 not null default pg_current_xact_id(), stream_id text %s not null,
    version bigint not null check (version >= 1), event_id uuid not null, type text not null, data %s not null, metadata %s %s, seq bigint,
    event_time timestamptz not null, recorded_at timestamptz not null default now(), partition int not null default 0)\$d\$,
    name, case when pk then 'primary key' end, coll, body, body, case when metadata then 'not null' end);
  if sv then execute format('alter table %I add unique (stream_id, version)', name); end if;
  if tail then execute format('create index on %I (tx_id, global_position)', name); end if;
  execute format('create unique index on %I (event_id) where seq is null', name);
  if row_trigger then
    execute format(\$t\$create constraint trigger %I after insert on %I deferrable initially deferred for each row
      when (current_setting('es.records_commit', true) is distinct from 'on') execute function record_nothing()\$t\$, name || '_row', name);
  end if;
  if statement_trigger then
    execute format(\$t\$create trigger %I after insert on %I for each statement
      when (current_setting('es.records_commit', true) is distinct from 'on') execute function record_nothing()\$t\$, name || '_statement', name);
  end if;
  execute format('copy %I (stream_id, version, event_id, type, data, %s seq, event_time, partition) from %L (format binary)',
                 name, case when metadata then 'metadata,' else '' end, '$dir/batch-1' || case when metadata then '' else '_nometa' end || '.bin');
end \$\$;
select shaped('all_parts');
select shaped('no_row_trigger', row_trigger => false);
select shaped('statement_trigger', row_trigger => false, statement_trigger => true);
select shaped('no_stream_version_index', sv => false);
select shaped('no_tail_index', tail => false);
select shaped('no_primary_key', pk => false);
select shaped('text_bodies', body => 'text');
select shaped('no_metadata', metadata => false);
select shaped('stream_id_collate_c', coll => 'collate "C"');
select shaped('statement_trigger_no_metadata', row_trigger => false, statement_trigger => true, metadata => false);
select shaped('heap_only', sv => false, tail => false, pk => false, row_trigger => false);
create table results (variant text, batch int, cpu_ns bigint);
SQL
"${admin[@]}" -c "vacuum analyze" -d append_costs

variants="all_parts no_row_trigger statement_trigger no_stream_version_index no_tail_index no_primary_key text_bodies no_metadata stream_id_collate_c statement_trigger_no_metadata heap_only"
{
  echo "set es.records_commit = 'on';"
  for ((b = 0; b < batches; b++)); do
    for v in $(printf '%s\n' $variants | shuf); do
      file=$dir/batch$b.bin
      cols="stream_id, version, event_id, type, data, metadata, seq, event_time, partition"
      case $v in *no_metadata) file=$dir/batch${b}_nometa.bin; cols="stream_id, version, event_id, type, data, seq, event_time, partition";; esac
      echo "begin; select cpu_ns() as c0 \\gset"
      echo "copy $v ($cols) from '$file' (format binary);"
      echo "commit; insert into results values ('$v', $b, cpu_ns() - :c0);"
    done
  done
} > "$dir/copies.sql"
"${db[@]}" -f "$dir/copies.sql"
echo "COPY of 10,000 rows, backend CPU per row (µs; medians over $batches batches; paired with the table with all of es.events' parts on the same batch):"
"${db[@]}" -P footer=off <<'SQL'
select r.variant, round((percentile_cont(0.5) within group (order by r.cpu_ns / 1e7))::numeric, 2) as cpu_us_per_row,
       round((percentile_cont(0.5) within group (order by r.cpu_ns::float8 / f.cpu_ns))::numeric, 3) as of_all_parts,
       round((percentile_cont(0.5) within group (order by (r.cpu_ns - f.cpu_ns) / 1e7))::numeric, 2) as us_per_row_vs_all_parts
  from results r join results f on f.variant = 'all_parts' and f.batch = r.batch
 group by r.variant order by of_all_parts;
SQL

"${db[@]}" >/dev/null <<'SQL'
create table heads_locked (stream_id text primary key, version bigint not null, last_seq bigint, created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(), partition int not null default 0, previous_version bigint, previous_last_seq bigint) with (fillfactor = 50);
insert into heads_locked (stream_id, version, last_seq) select distinct on (stream_id) stream_id, 20, 20 from src order by stream_id;
create table heads_moved (like heads_locked including all) with (fillfactor = 50);
insert into heads_moved select * from heads_locked;
create table head_batches as
select k, array_agg(stream_id order by random()) ids, array_agg(21 + k::bigint) seqs, array_agg(1) counts
  from heads_locked, generate_series(0, 39) k where (hashtext(stream_id) + k) % 2 = 0 group by k;
alter table head_batches add column firsts int[];
update head_batches set firsts = (select array_agg(i) from generate_series(1, cardinality(ids)) i);
-- es.move_heads (migration 31) on this table; each stream gets one rising seq here.
create function move_heads(stream_ids text[], firsts int[], counts int[], rising_seqs bigint[])
returns table (stream_id text, previous_version bigint, previous_last_seq bigint, partition int, version bigint, last_seq bigint)
language sql set enable_hashjoin = off set enable_seqscan = off as $$
  update heads_moved s
     set previous_version = s.version, previous_last_seq = s.last_seq,
         version = s.version + h.count - coalesce(width_bucket(s.last_seq, $4[h.first : h.first + h.count - 1]), 0),
         last_seq = greatest(s.last_seq, $4[h.first + h.count - 1]), updated_at = now()
    from (select u.stream_id, u.first, u.count from unnest($1, $2, $3) as u(stream_id, first, count) order by u.stream_id) h
   where s.stream_id = h.stream_id
  returning s.stream_id, s.previous_version, s.previous_last_seq, s.partition, s.version, s.last_seq
$$;
create table head_results (variant text, k int, cpu_ns bigint);
SQL
"${admin[@]}" -d append_costs -c "vacuum analyze"
{
  for k in $(seq 0 39); do
    for v in $(printf 'lock_then_update\nmove\n' | shuf); do
      echo "select ids, seqs, firsts, counts from head_batches where k = $k \\gset"
      echo "begin; select cpu_ns() as c0 \\gset"
      if [ "$v" = move ]; then
        echo "select count(*) from move_heads(:'ids'::text[], :'firsts'::int[], :'counts'::int[], :'seqs'::bigint[]);"
      else
        echo "select count(*) from (select stream_id, version, last_seq, partition from heads_locked where stream_id = any(:'ids'::text[]) order by stream_id for no key update) l;"
        echo "update heads_locked s set version = h.version, last_seq = h.last_seq, updated_at = now() from unnest(:'ids'::text[], :'seqs'::bigint[], :'seqs'::bigint[]) as h(stream_id, version, last_seq) where s.stream_id = h.stream_id;"
      fi
      echo "commit; insert into head_results values ('$v', $k, cpu_ns() - :c0);"
    done
  done
} > "$dir/heads.sql"
"${db[@]}" -f "$dir/heads.sql" >/dev/null
echo "Stream heads, 5,000 of 10,000 a batch, backend CPU per head (µs; medians over 40 batches; paired):"
"${db[@]}" -P footer=off <<'SQL'
select r.variant, round((percentile_cont(0.5) within group (order by r.cpu_ns / 5e6))::numeric, 2) as cpu_us_per_head,
       round((percentile_cont(0.5) within group (order by r.cpu_ns::float8 / l.cpu_ns))::numeric, 3) as of_lock_then_update
  from head_results r join head_results l on l.variant = 'lock_then_update' and l.k = r.k
 group by r.variant order by 3;
SQL
"${admin[@]}" -c "drop database append_costs with (force)"
