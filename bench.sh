#!/usr/bin/env bash
# The benchmark: raw limits, naive baseline, our pipeline with 10,000 and 100,000 jobs and Marten as a peer on the same
# signals, with the CPU each took, measured in one run here (--runs N: N runs, all reported; --no-marten, --no-100k
# for a quick check). Prints a table per run and writes artifacts/bench/bench.json (--output PATH). See README, "Performance".
#   ./bench.sh append [--batches N] [--batch-size N]   Ingest's append against a binary COPY of the same rows
#   ./bench.sh latency [--seconds N] [--rate N] ...    decision latency on Kafka and on the bus (scripts/decision-latency-bench.sh)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$repo"
if [ "${1:-}" = --help ] || [ "${1:-}" = -h ]; then
  sed -n '2,6s/^# \{0,1\}//p' "$0"
  exit 0
fi
if [ "${1:-}" = latency ]; then
  shift
  exec scripts/decision-latency-bench.sh "$@"
fi
source scripts/throwaway-postgres.sh
scripts/setup.sh || fail "set-up failed (see above)"
trap remove_throwaway_postgres EXIT
start_throwaway_postgres bench
bench=src/Bench/bin/Release/net10.0/linux-x64/Streaming.Bench.dll
if [ "${1:-}" = append ]; then
  shift
  dotnet "$bench" append --postgres "$postgres_connection" "$@"
else
  # The all-in-one process as the services run it: ReadyToRun-compiled (README, "Where the CPU per signal goes").
  embedded=$(scripts/ready-to-run.sh embedded=src/Embedded/Embedded.csproj) || fail "publishing the all-in-one process failed"
  dotnet "$bench" --postgres "$postgres_connection" --embedded "$embedded" \
    --marten src/Bench.Marten/bin/Release/net10.0/linux-x64/Streaming.Bench.Marten.dll "$@"
fi
