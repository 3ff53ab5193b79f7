#!/usr/bin/env bash
# Runs the whole system on its embedded default: a local PostgreSQL and a private RabbitMQ node (data kept in .data/ and
# reused), an embedded Kafka-protocol broker, Ingest, Projector and Promoter in one process, a simulated fleet of jobs,
# and two sample jobs (src/SampleJob) that follow their phase through the client library, one on the bus, one on Kafka.
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
samples=()
stop() {
  for pid in "${samples[@]}"; do kill "$pid" 2>/dev/null || true; done
  scripts/rabbitmq.sh stop "$data/rabbitmq" || true
  scripts/postgres.sh stop "$data/postgres"
}
trap stop EXIT
export Bus__RabbitMqUrl=$(scripts/rabbitmq.sh start "$data/rabbitmq")
echo "RabbitMQ: $Bus__RabbitMqUrl"

rm -f "$data/endpoints.json"
dotnet "src/Embedded/bin/Release/net10.0/linux-x64/Streaming.Embedded.dll" --endpoints-file "$data/endpoints.json" "$@" &
embedded=$!
trap 'kill -TERM "$embedded" 2>/dev/null || true' INT TERM
if [[ " $* " != *" --no-fleet "* ]]; then
  while [ ! -s "$data/endpoints.json" ] && kill -0 "$embedded" 2>/dev/null; do sleep 0.2; done
  bootstrap=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["kafkaBootstrapServers"])' "$data/endpoints.json" 2>/dev/null || true)
  if [ -n "$bootstrap" ]; then
    # On the fleet's accelerated event time: a signal every 100 ms is a simulated minute.
    sample() {
      dotnet src/SampleJob/bin/Release/net10.0/linux-x64/Streaming.SampleJob.dll --kafka "$bootstrap" --rabbitmq "$Bus__RabbitMqUrl" \
        --speed 600 --interval 00:00:00.1 --start 2026-01-05T08:00:00Z --state "$data/sample-jobs/$1" --job-id "$@" \
        > >(sed -u "s/^/[$1] /") 2>&1 &
      samples+=($!)
    }
    sample sample-orders-bus --feed RabbitMq
    sample sample-payments-kafka --feed Kafka --profile Regressing
  fi
fi
status=0
wait "$embedded" || status=$?
exit "$status"
