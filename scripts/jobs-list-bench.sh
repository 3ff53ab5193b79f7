#!/usr/bin/env bash
# The jobs list under load: every sort and filter of the fleet page's jobs browser (first page with its count, and a page
# after a keyset cursor) against JOBS job-state rows while signals rewrite 1,500 rows/s; then the write cost of a signal's
# row rewrite as built (HOT, the last-signal time in its narrow table) and with an index on last_signal_at instead.
#   scripts/jobs-list-bench.sh [JOBS] [SECONDS]     (default 100,000 jobs, 60 s of reads, 30 s per write measurement)
# Needs the build (scripts/setup.sh); `streaming migrate` and `rebuild` set up a fresh store of its own. The queries are the
# ones src/Api/Jobs/JobQueries.cs sends (kept in step by hand); the rows' sizes are those of a 30-signal window.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${1:-100000}
seconds=${2:-60}
source scripts/throwaway-postgres.sh
work=$(mktemp -d /tmp/jobs-list-bench.XXXXXX)
trap 'remove_throwaway_postgres; rm -rf "$work"' EXIT
start_throwaway_postgres jobs-list
url="postgresql://postgres@127.0.0.1:$postgres_port/postgres"
for command in migrate rebuild; do # the first migrates the empty store, the second makes its active generation
  ConnectionStrings__EventStore="$postgres_connection" dotnet src/Cli/bin/Release/net10.0/linux-x64/streaming.dll $command \
    >"$work/cli.log" 2>&1 || fail "streaming $command failed: $(tail -5 "$work/cli.log")"
done
q() { psql "$url" -Atq -v ON_ERROR_STOP=1 -c "$1"; }
g=$(q "select generation from projections.generations where projection = 'job_states' and state = 'active'")
teams="array['orders','payments','inventory','users','shipping']"
id="'bench-' || ($teams)[1 + k % 5] || '-' || k"

echo "filling $jobs job-state rows (generation $g)"
q "insert into projections.job_states_g$g (job_id, policy, phase, assigned_at, phase_since, awaiting_ack, last_reported_phase, last_seq, last_signal_at,
     stream_version, phase_changes, last_direction, last_changed_at, stuck, regressed, flags, metrics, criteria, labels, lifecycle, waiting_for)
   select $id, 'cdc-migration@1', ph, now() - interval '3 days', now() - random() * interval '3 days', false, ph, 60, now() - random() * interval '2 hours',
          60, k % 4, case when k % 4 > 0 then 'promote' end, case when k % 4 > 0 then now() - interval '1 day' end, k % 100 = 0, false,
          case when k % 100 = 0 then array['stuck'] when k % 333 = 0 then array['quarantined'] when k % 50 = 0 then array['awaiting-ack'] else '{}'::text[] end,
          jsonb_build_object('checksum_mismatch_rate', random() / 1000, 'landing_latency_p95_ms', 500 + random() * 1000, 'error_rate', random() / 100),
          (select jsonb_build_object('nextPhase', 'cleanup', 'verdict', 'fail', 'window', '00:15:00', 'soak', '00:30:00', 'timeInPhase', '01:02:03',
                  'criteria', jsonb_agg(jsonb_build_object('metric', m, 'aggregate', 'max', 'comparison', '<=', 'threshold', random(), 'value', random(),
                                                           'samples', 15, 'minSamples', 10, 'verdict', 'pass')))
             from unnest(array['checksum_mismatch_rate', 'landing_latency_p95_ms', 'error_rate']) m),
          jsonb_build_object('team', ($teams)[1 + k % 5], 'env', 'prod', 'region', 'eu-' || k % 3),
          (select decode(string_agg(md5(random()::text || n), ''), 'hex') from generate_series(1, 94) n), null
     from generate_series(0, $jobs - 1) k,
          lateral (select (array['shadow', 'shadow', 'reverse_shadow', 'reverse_shadow', 'cleanup', 'done'])[1 + (k * 7919) % 6] as ph) p;
   insert into projections.job_signals_g$g (job_id, last_signal_at) select job_id, last_signal_at from projections.job_states_g$g;"
q "vacuum analyze projections.job_states_g$g, projections.job_signals_g$g"

# A signal's rewrite of its job's row (the columns a signal changes), 50 rows a flush, 30 flushes a second, spread over
# 2,000 reporting jobs; the narrow table's time in the same transaction (skipped with `main` as argument 1).
write_script() {
  local reporting="(select $id from generate_series(:s, :s + 49) j, lateral (select j * ($jobs / 2000) as k) x)"
  {
    echo '\set s random(0, 1950)'
    echo 'begin;'
    echo "update projections.job_states_g$g set last_signal_at = now(), last_seq = last_seq + 1, stream_version = stream_version + 1,
      metrics = jsonb_set(metrics, '{error_rate}', to_jsonb(random() / 100)), criteria = jsonb_set(criteria, '{timeInPhase}', to_jsonb(clock_timestamp()::text)),
      lifecycle = overlay(lifecycle placing decode(md5(random()::text), 'hex') from 1 + (random() * 1400)::int), updated_at = now()
      where job_id in $reporting;"
    [ "$1" = main ] || echo "update projections.job_signals_g$g set last_signal_at = now() where job_id in $reporting;"
    echo 'commit;'
  } >"$work/write.sql"
}

cols="job_id, policy, phase, assigned_at, phase_since, awaiting_ack, last_reported_phase, last_seq, last_signal_at, stream_version, phase_changes, last_direction, last_changed_at, flags, metrics::text, labels::text, waiting_for, lifecycle"
n=0
: >"$work/names"
stuck=$(q "select array_agg(job_id) from (select job_id from projections.job_states where flags @> array['stuck']::text[] limit 1001) s")
for sort in id since signal changes; do
  case $sort in
    id) col=job_id; tie=job_id; from=projections.job_states; after="'bench-orders-' || :r" ;;
    since) col="coalesce(phase_since, '-infinity'::timestamptz)"; tie=job_id; from=projections.job_states; after="now() - :r * interval '1 second'" ;;
    signal) col="coalesce(signal_at, '-infinity'::timestamptz)"; tie=signal_job
            from="(select job_id as signal_job, last_signal_at as signal_at from projections.job_signals) signals join projections.job_states on job_id = signal_job"
            after="now() - :r * interval '1 second'" ;;
    changes) col=phase_changes; tie=job_id; from=projections.job_states; after=":r % 4" ;;
  esac
  for order in asc desc; do
    [ $order = asc ] && cmp='>' || cmp='<'
    for filter in none phase flag label prefix; do
      case $filter in
        none) where=true ;;
        phase) where="phase = 'reverse_shadow'" ;;
        flag) where="flags @> array['stuck']::text[]" ;;
        label) where="labels @> jsonb_build_object('team'::text, 'orders'::text)" ;;
        prefix) where="job_id >= 'bench-orders-1' and starts_with(job_id, 'bench-orders-1')" ;;
      esac
      # As JobQueries does: a flag, label or prefix filter is looked up first (up to 1,001 ids, which also count); when
      # at most 1,000 match (here the flag's 1%), the page sorts those ids, else it walks the sort's index.
      page_where=$where
      if [ $filter = flag ]; then
        page_where="job_id = any('$stuck'::text[])"
        [ $sort = signal ] && page_where="$page_where and signal_job = any('$stuck'::text[])"
      fi
      for page in first next; do
        {
          echo '\set r random(1, 10000)'
          case $filter in
            none | phase) [ $page = first ] && echo "select count(*) from (select from projections.job_states where $where limit 1001) matching;" ;;
            flag | label | prefix) echo "select job_id from projections.job_states where $where limit 1001;" ;;
          esac
          if [ $page = first ]; then
            echo "select $cols, $col from $from where $page_where order by $col $order, $tie $order limit 51;"
          else
            echo "select $cols, $col from $from where $page_where and ($col, $tie) $cmp ($after, 'bench-orders-' || :r) order by $col $order, $tie $order limit 51;"
          fi
        } >"$work/read-$n.sql"
        echo "$n by $sort $order, filter $filter, $page page" >>"$work/names"
        n=$((n + 1))
      done
    done
  done
done

echo "reading for $seconds s (3 readers, $n query shapes) while 1,500 rows/s are rewritten"
write_script both
pgbench -n -c 2 -j 1 -R 30 -T $((seconds + 5)) -f "$work/write.sql" "$url" >"$work/writer.log" 2>&1 &
writer=$!
args=(); for ((i = 0; i < n; i++)); do args+=(-f "$work/read-$i.sql"); done
(cd "$work" && pgbench -n -c 3 -j 3 -T "$seconds" -l --log-prefix=reads "${args[@]}" "$url" >"$work/readers.log" 2>&1) || fail "the readers failed: $(tail -5 "$work/readers.log")"
wait $writer || fail "the writer failed: $(tail -5 "$work/writer.log")"
cat "$work"/reads.* | python3 -c '
import sys, collections
names = dict(line.rstrip("\n").split(" ", 1) for line in open(sys.argv[1]))
lat = collections.defaultdict(list)
for line in sys.stdin:
    f = line.split()
    lat[f[3]].append(int(f[2]) / 1000)
worst = 0
print("%-52s %8s %8s %8s %8s" % ("query", "samples", "p50 ms", "p95 ms", "max ms"))
for k in sorted(lat, key=int):
    v = sorted(lat[k]); p = lambda q: v[min(len(v) - 1, int(q * len(v)))]
    worst = max(worst, p(0.95))
    print(f"{names[k]:52} {len(v):8} {p(0.5):8.1f} {p(0.95):8.1f} {v[-1]:8.1f}")
print(f"highest p95: {worst:.1f} ms")
' "$work/names"

pg_pid=$(head -1 "$postgres_dir/data/postmaster.pid")
cpu_ticks() { local f t; read -r -a f <"/proc/$pg_pid/stat"; t=$((f[13] + f[14] + f[15] + f[16]))
  for p in $(pgrep -P "$pg_pid"); do read -r -a f <"/proc/$p/stat" 2>/dev/null && t=$((t + f[13] + f[14])); done; echo "$t"; }
write_cost() {
  local u0 w0 c0 u1 w1 c1 rows hot
  u0=$(q "select n_tup_upd || ' ' || n_tup_hot_upd from pg_stat_user_tables where relname = 'job_states_g$g'"); w0=$(q "select pg_current_wal_lsn()"); c0=$(cpu_ticks)
  pgbench -n -c 2 -j 1 -R 30 -T 30 -f "$work/write.sql" "$url" >"$work/writer.log" 2>&1 || fail "the writer failed: $(tail -5 "$work/writer.log")"
  c1=$(cpu_ticks); w1=$(q "select pg_current_wal_lsn()"); u1=$(q "select n_tup_upd || ' ' || n_tup_hot_upd from pg_stat_user_tables where relname = 'job_states_g$g'")
  read -r a0 h0 <<<"$u0"; read -r a1 h1 <<<"$u1"; rows=$((a1 - a0)); hot=$((h1 - h0))
  printf '%-60s rows %6d  HOT %3d%%  PostgreSQL CPU %4d us/row  WAL %5d B/row\n' "$1" "$rows" $((100 * hot / rows)) \
    $(( (c1 - c0) * 1000000 / $(getconf CLK_TCK) / rows )) $(( $(q "select pg_wal_lsn_diff('$w1', '$w0')::bigint") / rows ))
}
echo "write cost of a signal's row rewrite (30 s each, 1,500 rows/s)"
q "vacuum projections.job_states_g$g, projections.job_signals_g$g"
write_cost "as built: HOT row, time in the narrow table"
q "create index job_states_signal on projections.job_states_g$g (coalesce(last_signal_at, '-infinity'::timestamptz), job_id)"
q "vacuum projections.job_states_g$g"
write_script main
write_cost "alternative: an index on the row's last_signal_at"
