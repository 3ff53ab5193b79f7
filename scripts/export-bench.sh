#!/usr/bin/env bash
# The export check: a fresh PostgreSQL holding JOBS × MINUTES signals (default 10,000 × 1,000 = 10 million), written
# straight into the event store (scripts/synthetic-signals.sh), then `streaming export` of all of them to
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
source scripts/synthetic-signals.sh
scripts/setup.sh || fail "set-up failed (see above)"
trap 'remove_throwaway_postgres; rm -f "$out"/events.jsonl "$out"/events.csv "$out"/job-3.jsonl; [ -z "$created" ] || rmdir "$created"' EXIT
start_throwaway_postgres export
cli=src/Cli/bin/Release/net10.0/linux-x64/streaming.dll
# The CLI migrates the store it is pointed at; an empty export does that before the signals are written.
dotnet "$cli" export --connection "$postgres_connection" -o /dev/null > /dev/null
write_synthetic_signals "$jobs" "$minutes"
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
