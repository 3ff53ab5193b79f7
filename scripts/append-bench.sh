#!/usr/bin/env bash
# Ingest's append against a binary COPY of the same rows, on a PostgreSQL of its own (see README, "Performance").
#   scripts/append-bench.sh [--batches N] [--batch-size N]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
scripts/setup.sh
pg_dir=$(mktemp -d /tmp/streaming-append-pg.XXXXXX)
pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
trap 'scripts/postgres.sh stop "$pg_dir"; rm -rf "$pg_dir"' EXIT
conn=$(scripts/postgres.sh start "$pg_dir" "$pg_port")
dotnet src/Bench/bin/Release/net10.0/linux-x64/Streaming.Bench.dll append --postgres "$conn" "$@"
