#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what is missing, builds, starts a throwaway PostgreSQL and a
# private RabbitMQ node (the tests start their own embedded Kafka-protocol brokers), runs every test, and ends with
# "N passed, N failed, N skipped".
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$repo"

source scripts/throwaway-postgres.sh

scripts/setup.sh --no-build || fail "set-up failed (see above)"

# RabbitMQ boots (a few seconds of Erlang) while the solution builds.
rabbit_dir=$(mktemp -d /tmp/streaming-test-rabbitmq.XXXXXX) || fail "cannot create a folder for RabbitMQ"
scripts/rabbitmq.sh start "$rabbit_dir" > "$rabbit_dir/url" 2> "$rabbit_dir/start.err" &
rabbit_start=$!
cleanup() {
  wait "$rabbit_start" 2>/dev/null || true
  scripts/rabbitmq.sh stop "$rabbit_dir" 2>/dev/null || true
  rm -rf "$rabbit_dir"
  remove_throwaway_postgres
}
trap cleanup EXIT

scripts/setup.sh || fail "set-up failed (see above)"
start_throwaway_postgres test
export STREAMING_TEST_POSTGRES=$postgres_connection
wait "$rabbit_start" || { cat "$rabbit_dir/start.err" >&2; fail "RabbitMQ did not start"; }
STREAMING_TEST_RABBITMQ=$(cat "$rabbit_dir/url") || fail "RabbitMQ did not say where it listens"
export STREAMING_TEST_RABBITMQ

results=$repo/artifacts/test-results
rm -rf "$results"
set +e
dotnet test Streaming.sln -c Release --no-build --nologo \
  --logger "trx;LogFileName=tests.trx" --logger "console;verbosity=normal" --results-directory "$results" "$@"
status=$?
set -e

python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
for path in glob.glob(sys.argv[1] + "/**/*.trx", recursive=True):
    counters = ET.parse(path).getroot().find(".//{*}Counters")
    if counters is None:
        continue
    passed += int(counters.get("passed", 0))
    failed += int(counters.get("failed", 0)) + int(counters.get("error", 0)) + int(counters.get("timeout", 0)) + int(counters.get("aborted", 0))
    skipped += int(counters.get("notExecuted", 0))
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
