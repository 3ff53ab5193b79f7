#!/usr/bin/env bash
# Runs the whole system on its embedded default: a local PostgreSQL (data kept in .data/ and reused), an embedded
# Kafka-protocol broker, Ingest, Projector and Promoter in one process, and a simulated fleet of jobs.
#   ./run.sh                 fleet of 300 jobs on accelerated event time
#   ./run.sh --no-fleet      no fleet: any Kafka client (kcat, ...) is the producer
#   ./run.sh --jobs 1000     a bigger fleet
# The endpoints (Kafka bootstrap servers, PostgreSQL connection string) are printed and written to .data/endpoints.json.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$repo"

scripts/setup.sh

data=${STREAMING_DATA:-$repo/.data}
mkdir -p "$data"
pg_port=${STREAMING_PG_PORT:-55433}
export ConnectionStrings__EventStore=$(scripts/postgres.sh start "$data/postgres" "$pg_port")
trap 'scripts/postgres.sh stop "$data/postgres"' EXIT

dotnet "src/Embedded/bin/Release/net10.0/linux-x64/Streaming.Embedded.dll" --endpoints-file "$data/endpoints.json" "$@"
