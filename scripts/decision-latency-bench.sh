#!/usr/bin/env bash
# Decision latency: from the signal that decides a promotion being produced to PhaseChanged in the job's subscriber,
# on Kafka and on the MassTransit bus, under background load (default 5,000 signals/s from 10,000 jobs), beside the raw
# produce -> consume round trip of each broker. Starts its own PostgreSQL and RabbitMQ node; see README, "Performance".
#   scripts/decision-latency-bench.sh [--seconds 60] [--rate 5000] [--jobs 10000] [--probes 200] [--output PATH]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
source scripts/throwaway-postgres.sh
scripts/setup.sh || fail "set-up failed (see above)"
rabbit_dir=$(mktemp -d /tmp/streaming-latency-bench-rabbitmq.XXXXXX) || fail "cannot create a folder for RabbitMQ"
cleanup() { scripts/rabbitmq.sh stop "$rabbit_dir" || true; rm -rf "$rabbit_dir"; remove_throwaway_postgres; }
trap cleanup EXIT
start_throwaway_postgres latency-bench
embedded=$(scripts/ready-to-run.sh embedded=src/Embedded/Embedded.csproj) || fail "publishing the all-in-one process failed"
rabbitmq=$(scripts/rabbitmq.sh start "$rabbit_dir") || fail "RabbitMQ did not start (see above)"
dotnet src/Bench/bin/Release/net10.0/linux-x64/Streaming.Bench.dll decision-latency \
  --postgres "$postgres_connection" --rabbitmq "$rabbitmq" --embedded "$embedded" "$@"
