#!/usr/bin/env bash
# The backtest benchmark: a fresh PostgreSQL holding JOBS × MINUTES signals (default 10,000 × 1,000 = 10 million) of the
# default policy's metrics, written straight into the event store; then `archive` (what the Projector does live) builds
# the history archive, and `backtest` of a candidate (shadow soak 20m instead of 30m) runs: twice from the archive, once
# from the log alone (--no-archive), once from the archive writing a local copy (--cache), and once from that copy.
#   scripts/backtest-bench.sh [JOBS] [MINUTES]
# Half the jobs report a 5% error rate and never pass shadow; the other half pass and are promoted at minute 30. No
# Promoter ran over this log, so it holds no recorded decisions and the report's "reproduce" line says so.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
jobs=${1:-10000}
minutes=${2:-1000}

source scripts/throwaway-postgres.sh
source scripts/synthetic-signals.sh
scripts/setup.sh || fail "set-up failed (see above)"
cache=$(mktemp -u /tmp/streaming-backtest.XXXXXX.history)
trap 'remove_throwaway_postgres; rm -f "$cache"' EXIT
start_throwaway_postgres backtest
export ConnectionStrings__EventStore=$postgres_connection
cli=src/Cli/bin/Release/net10.0/linux-x64/streaming.dll
candidate=$(mktemp /tmp/streaming-candidate.XXXXXX.yaml)
sed 's/soak: 30m/soak: 20m/' policies/cdc-migration.yaml > "$candidate"

dotnet "$cli" migrate
# No API runs over this store, and `policy publish` writes through the API: the policy is written straight into the
# store like the signals below, as the event the Promoter's policy folder or the API would record.
psql "host=127.0.0.1 port=$postgres_port user=postgres dbname=postgres" -v ON_ERROR_STOP=1 -q -v text="$(cat policies/cdc-migration.yaml)" <<'SQL'
begin;
select set_config('es.records_commit', 'on', true) as promised \gset
insert into es.events (stream_id, version, event_id, type, data, metadata, event_time)
values ('policy:cdc-migration', 1, gen_random_uuid(), 'policy-published/v1',
  json_build_object('name', 'cdc-migration', 'version', 1, 'text', :'text', 'sha256', encode(sha256(convert_to(:'text', 'UTF8')), 'hex'),
    'publishedBy', 'backtest-bench', 'publishedAt', now()),
  '{}'::json, now());
select commit as recorded_commit from es.record_commit() \gset
commit;
SQL
write_synthetic_signals "$jobs" "$minutes"
echo "--- archive"
/usr/bin/time -f "wall %e s, peak RSS %M KB, CPU %P" dotnet "$cli" archive
# As for the events above: settle the bulk-written archive (autovacuum and a checkpoint would otherwise run during the
# first backtest), the state a live archive written block by block is in.
psql "host=127.0.0.1 port=$postgres_port user=postgres dbname=postgres" -v ON_ERROR_STOP=1 -q -c "vacuum analyze es.history_blocks" -c "checkpoint"
run() {
  echo "--- $1"
  shift
  /usr/bin/time -f "wall %e s, peak RSS %M KB, CPU %P" dotnet "$cli" backtest "$candidate" "$@"
}
run "from the archive"
run "from the archive, again"
run "from the log alone" --no-archive
run "from the archive, writing a local copy" --cache "$cache"
run "from the local copy" --cache "$cache"
rm -f "$candidate"
