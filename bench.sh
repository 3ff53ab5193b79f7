#!/usr/bin/env bash
# The benchmark: raw limits, naive baseline, our pipeline with 10,000 and 100,000 jobs and Marten as a peer on the same
# signals, with the CPU each took, measured in one run here (--runs N: N runs, all reported; --no-marten, --no-100k
# for a quick check). Prints a table per run and writes artifacts/bench/bench.json (--output PATH). See README, "Performance".
#   ./bench.sh append [--batches N] [--batch-size N]   Ingest's append against a binary COPY of the same rows
#   ./bench.sh latency [--seconds N] [--rate N] ...    decision latency on Kafka and on the bus (scripts/decision-latency-bench.sh)
#   ./bench.sh allocations [--jobs N] [--minutes N]    bytes allocated and CPU per signal, stage by stage, in process (no server)
#   ./bench.sh scale [--instances 1,2,3] [--jobs N] ... 1, 2 and 3 processes of each service, a Promoter's takeover, a
#                                                       sharded fleet (--fleet-jobs N); ./bench.sh scale --help for all
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$repo"
if [ "${1:-}" = --help ] || [ "${1:-}" = -h ]; then
  sed -n '2,9s/^# \{0,1\}//p' "$0"
  exit 0
fi
if [ "${1:-}" = latency ]; then
  shift
  exec scripts/decision-latency-bench.sh "$@"
fi
bench=src/Bench/bin/Release/net10.0/linux-x64/Streaming.Bench.dll
if [ "${1:-}" = allocations ]; then
  shift
  scripts/setup.sh >&2 || { echo "bench.sh: set-up failed (see above)" >&2; exit 1; }
  exec dotnet "$bench" allocations "$@"
fi
source scripts/throwaway-postgres.sh
if [ "${1:-}" = scale ]; then
  shift
  if [ "${1:-}" = --help ] || [ "${1:-}" = -h ]; then
    scripts/setup.sh >&2 || fail "set-up failed (see above)"
    exec dotnet "$bench" scale --help
  fi
  scripts/setup.sh || fail "set-up failed (see above)"
  # The services as ./run.sh runs them: ReadyToRun-compiled, each a process of its own.
  mapfile -t apps < <(scripts/ready-to-run.sh embedded=src/Embedded/Embedded.csproj ingest=src/Hosts/Ingest/Ingest.Host.csproj \
    projector=src/Hosts/Projector/Projector.Host.csproj promoter=src/Hosts/Promoter/Promoter.Host.csproj) && [ ${#apps[@]} = 4 ] \
    || fail "publishing the services failed"
  # Shard 1's cluster for the fleet (unless --no-fleet): a second throwaway PostgreSQL, removed with the first.
  shard1_dir=
  trap 'remove_throwaway_postgres; [ -z "$shard1_dir" ] || scripts/postgres.sh remove "$shard1_dir" || true' EXIT
  shard1=()
  if [[ " $* " != *" --no-fleet "* ]]; then
    start_throwaway_postgres bench-scale-shard1
    shard1_dir=$postgres_dir shard1=(--postgres-shard1 "$postgres_connection")
  fi
  start_throwaway_postgres bench-scale
  dotnet "$bench" scale --postgres "$postgres_connection" "${shard1[@]}" --embedded "${apps[0]}" --ingest "${apps[1]}" \
    --projector "${apps[2]}" --promoter "${apps[3]}" "$@"
  exit
fi
scripts/setup.sh || fail "set-up failed (see above)"
trap remove_throwaway_postgres EXIT
start_throwaway_postgres bench
if [ "${1:-}" = append ]; then
  shift
  dotnet "$bench" append --postgres "$postgres_connection" "$@"
else
  # The all-in-one process as the services run it: ReadyToRun-compiled (README, "Where the CPU per signal goes").
  embedded=$(scripts/ready-to-run.sh embedded=src/Embedded/Embedded.csproj) || fail "publishing the all-in-one process failed"
  dotnet "$bench" --postgres "$postgres_connection" --embedded "$embedded" \
    --marten src/Bench.Marten/bin/Release/net10.0/linux-x64/Streaming.Bench.Marten.dll "$@"
fi
