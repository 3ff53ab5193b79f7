#!/usr/bin/env bash
# Decision latency: from the signal that decides a promotion being produced to PhaseChanged in the job's subscriber,
# on Kafka and on the MassTransit bus, under background load (default 5,000 signals/s from 10,000 jobs), beside the raw
# produce -> consume round trip of each broker. Starts its own PostgreSQL and RabbitMQ node; see README, "Performance".
#   scripts/decision-latency-bench.sh [--seconds 60] [--rate 5000] [--jobs 10000] [--probes 200] [--output PATH]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
scripts/setup.sh
pg_dir=$(mktemp -d /tmp/streaming-latency-bench-pg.XXXXXX)
rabbit_dir=$(mktemp -d /tmp/streaming-latency-bench-rabbitmq.XXXXXX)
cleanup() { scripts/rabbitmq.sh stop "$rabbit_dir" || true; rm -rf "$rabbit_dir"; scripts/postgres.sh stop "$pg_dir"; rm -rf "$pg_dir"; }
trap cleanup EXIT
pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
conn=$(scripts/postgres.sh start "$pg_dir" "$pg_port")
rabbitmq=$(scripts/rabbitmq.sh start "$rabbit_dir")
dotnet src/Bench/bin/Release/net10.0/linux-x64/Streaming.Bench.dll decision-latency \
  --postgres "$conn" --rabbitmq "$rabbitmq" --embedded src/Embedded/bin/Release/net10.0/linux-x64/Streaming.Embedded.dll "$@"
