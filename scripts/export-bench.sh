#!/usr/bin/env bash
# The export check: a fresh PostgreSQL holding JOBS × MINUTES signals (default 10,000 × 1,000 = 10 million), written
# straight into the event store as scripts/backtest-bench.sh writes them, then `streaming export` of all of them to
# JSON lines and to CSV, each timed with its peak RSS (`/usr/bin/time`), and a filtered export (one job, one type, an
# hour of event time). No Projector runs over this store, so `--label` (which selects jobs by their projected labels)
# would find none here.
#   scripts/export-bench.sh [JOBS] [MINUTES] [FOLDER]   (FOLDER: where the exports go, default a temporary folder)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
jobs=${1:-10000}
minutes=${2:-1000}
out=${3:-}
created=
if [ -z "$out" ]; then out=$(mktemp -d /tmp/streaming-export-bench.XXXXXX); created=$out; fi
source scripts/throwaway-postgres.sh
scripts/setup.sh || fail "set-up failed (see above)"
trap 'remove_throwaway_postgres; rm -f "$out"/events.jsonl "$out"/events.csv "$out"/job-3.jsonl; [ -z "$created" ] || rmdir "$created"' EXIT
start_throwaway_postgres export
cli=src/Cli/bin/Release/net10.0/linux-x64/streaming.dll
# The CLI migrates the store it is pointed at; an empty export does that before the signals are written.
dotnet "$cli" export --connection "$postgres_connection" -o /dev/null > /dev/null
echo "writing $jobs jobs × $minutes minutes of signals …"
start=$(date +%s)
psql "host=127.0.0.1 port=$postgres_port user=postgres dbname=postgres" -v ON_ERROR_STOP=1 -q <<SQL
insert into es.events (stream_id, version, event_id, type, data, metadata, seq, event_time)
select 'job-' || j, m + 1, gen_random_uuid(), 'signal-recorded/v1',
  json_build_object('seq', m + 1, 'jobId', 'job-' || j, 'phase', 'shadow', 'labels', json_build_object('team', 'team-' || (j % 20)),
    'metrics', json_build_object('error_rate', case when j % 2 = 0 then 0.05 else 0.001 end, 'checksum_mismatch_rate', 0.0001,
      'landing_latency_p95_ms', 800 + (j * 7 + m * 13) % 400),
    'emittedAt', to_char(timestamptz '2026-01-01 00:00:00+00' + make_interval(mins => m), 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'),
    'correlationId', null),
  '{}'::json, m + 1, timestamptz '2026-01-01 00:00:00+00' + make_interval(mins => m)
from generate_series(0, $minutes - 1) m, generate_series(0, $jobs - 1) j
order by m, j;
vacuum analyze es.events;
checkpoint;
SQL
echo "written in $(( $(date +%s) - start )) s"
export_run() {
  echo "--- export $1"
  shift
  /usr/bin/time -f "wall %e s, peak RSS %M KB, CPU %P" dotnet "$cli" export --connection "$postgres_connection" "$@"
}
export_run "all, JSON lines" -o "$out/events.jsonl"
ls -l "$out/events.jsonl" && wc -l < "$out/events.jsonl"
rm -f "$out/events.jsonl"
export_run "all, CSV" --format csv -o "$out/events.csv"
ls -l "$out/events.csv"
rm -f "$out/events.csv"
export_run "one job's signals over an hour" --job job-3 --type signal-recorded/v1 --from 2026-01-01T05:00:00Z --to 2026-01-01T06:00:00Z -o "$out/job-3.jsonl"
wc -l < "$out/job-3.jsonl"
