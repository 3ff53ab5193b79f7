#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what is missing, builds, starts a throwaway PostgreSQL
# (the tests start their own embedded Kafka-protocol brokers), runs every test, and ends with "N passed, N failed, N skipped".
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$repo"

scripts/setup.sh

pg_dir=$(mktemp -d /tmp/streaming-test-pg.XXXXXX)
pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() { scripts/postgres.sh stop "$pg_dir"; rm -rf "$pg_dir"; }
trap cleanup EXIT
export STREAMING_TEST_POSTGRES=$(scripts/postgres.sh start "$pg_dir" "$pg_port")

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
