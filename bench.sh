#!/usr/bin/env bash
# The benchmark: raw limits, naive baseline, our pipeline with 10,000 and 100,000 jobs and Marten as a peer on the same
# signals, with the CPU each took, measured in one run here (--runs N: N runs, all reported; --no-marten, --no-100k
# for a quick check). Prints a table per run and writes artifacts/bench/bench.json (--output PATH). See README, "Performance".
#   ./bench.sh append [--batches N] [--batch-size N]   Ingest's append against a binary COPY of the same rows
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$repo"
fail() { printf 'bench.sh: %s
' "$*" >&2; exit 1; }
scripts/setup.sh || fail "set-up failed (see above)"
pg_dir=$(mktemp -d /tmp/streaming-bench-pg.XXXXXX) || fail "cannot create a folder for PostgreSQL"
pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') || fail "no free port"
trap 'scripts/postgres.sh remove "$pg_dir" || true' EXIT
conn=$(scripts/postgres.sh start "$pg_dir" "$pg_port") || fail "PostgreSQL did not start (see above)"
bench=src/Bench/bin/Release/net10.0/linux-x64/Streaming.Bench.dll
if [ "${1:-}" = append ]; then
  shift
  dotnet "$bench" append --postgres "$conn" "$@"
else
  dotnet "$bench" --postgres "$conn" --embedded src/Embedded/bin/Release/net10.0/linux-x64/Streaming.Embedded.dll \
    --marten src/Bench.Marten/bin/Release/net10.0/linux-x64/Streaming.Bench.Marten.dll "$@"
fi
