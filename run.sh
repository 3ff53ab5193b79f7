#!/usr/bin/env bash
# Runs the whole system on its embedded default: a local PostgreSQL (data kept in .data/ and reused), and, each a
# process of its own under a supervisor that restarts them (run.procfile): the embedded Kafka-protocol broker, a private
# RabbitMQ node, Ingest, Projector, Promoter, the API and dashboards, a simulated fleet of jobs, and two sample jobs
# (src/SampleJob) that follow their phase through the client library, one on the bus, one on Kafka. A crashed service
# never takes the broker's topics with it.
#   ./run.sh                 fleet of 300 jobs on accelerated event time
#   ./run.sh --no-fleet      no fleet and no sample jobs: any Kafka client (kcat, ...) is the producer
#   ./run.sh --jobs 1000     a bigger fleet
#   ./run.sh --http-port N   the API and dashboards on port N (default 5080; 0 for any free port)
#   ./run.sh --instances N   N processes each of Ingest, the Projector and the Promoter, each role's sharing the
#                            partitions through its consumer group, each copy a static member named by its index; with
#                            N > 1 the store is made (or must have been made) with as many log partitions as job-signals has
#   ./run.sh --shards S      the store over S PostgreSQL clusters (ports STREAMING_PG_PORT .. +S-1), log partition p on
#                            shard p mod S; per shard N Projectors and N Promoters (projector-shard<s>, ...) serving it,
#                            each role's sharing the shard's partitions through job-signals.shard-<s> (the broker makes it);
#                            one set of Ingest and the API over every shard; at most as many shards as log partitions
#   ./run.sh --all-in-one    broker, services, API and fleet in one process instead (quick demos: a crash takes the topics
#                            with it), beside PostgreSQL and RabbitMQ
# The endpoints (Kafka bootstrap servers, PostgreSQL connection string, API, process ids) are written to
# .data/endpoints.json while it runs. STREAMING_DATA (default .data) and STREAMING_PG_PORT (default 55433) change where
# and on which port; one run at a time per data folder. STREAMING_SKIP_SETUP=1 skips scripts/setup.sh (for tests, which
# built already). Ctrl-C stops everything; the exit code is non-zero when a set-up step failed or the supervisor gave up.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$repo"

fail() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }
dll() { echo "src/$1/bin/Release/net10.0/linux-x64/Streaming.$1.dll"; }

all_in_one=false
supervisor_flags=()
embedded_flags=()
http_port=5080
instances=1
shards=1
while [ $# -gt 0 ]; do
  case "$1" in
    --all-in-one) all_in_one=true ;;
    --no-fleet) supervisor_flags+=(--without fleet --without 'sample-*'); embedded_flags+=(--no-fleet) ;;
    --jobs)
      [ $# -ge 2 ] && [[ $2 =~ ^[1-9][0-9]*$ ]] || fail "--jobs needs a positive number"
      export Fleet__Jobs=$2
      embedded_flags+=(--jobs "$2")
      shift ;;
    --instances)
      [ $# -ge 2 ] && [[ $2 =~ ^[1-9][0-9]*$ ]] || fail "--instances needs a positive number"
      instances=$2
      shift ;;
    --shards)
      [ $# -ge 2 ] && [[ $2 =~ ^[1-9][0-9]*$ ]] || fail "--shards needs a positive number"
      shards=$2
      shift ;;
    --http-port)
      [ $# -ge 2 ] && [[ $2 =~ ^[0-9]+$ ]] || fail "--http-port needs a port number (0: any free port)"
      http_port=$2
      shift ;;
    *) fail "unknown flag '$1'; flags: --all-in-one, --no-fleet, --jobs N, --instances N, --shards S, --http-port N" ;;
  esac
  shift
done

[ "$instances" = 1 ] || ! $all_in_one || fail "--instances runs separate service processes: it does not go with --all-in-one"
[ "$shards" = 1 ] || ! $all_in_one || fail "--shards runs separate service processes: it does not go with --all-in-one"
# Kafka partition k is log partition k, and each shard holds at least one of them.
partitions=${Kafka__Partitions:-12}
[ "$shards" -le "$partitions" ] || fail "--shards $shards: the store has $partitions log partitions (one per job-signals partition), so at most $partitions shards"

data=${STREAMING_DATA:-$repo/.data}
mkdir -p "$data" || fail "cannot create the data folder $data"
data=$(cd "$data" && pwd)

# One run per data folder. Every process this script starts inherits the lock (PostgreSQL and RabbitMQ excepted, which
# a later run adopts), so the folder is free again only once all of them are gone; a second run touches nothing.
exec 9>>"$data/run.lock" || fail "cannot open $data/run.lock"
if ! flock -n 9; then
  fail "another ./run.sh is using $data (pid $(cat "$data/run.pid" 2>/dev/null || echo unknown)); stop it first, or set STREAMING_DATA to another folder"
fi
echo $$ >"$data/run.pid"

# The executables run from $data/apps/NAME: after a set-up, ReadyToRun-compiled (scripts/ready-to-run.sh: less JIT
# while they run); with the set-up skipped, the build output itself (tests, which should not pay for compiling them).
apps=(embedded=src/Embedded/Embedded.csproj ingest=src/Hosts/Ingest/Ingest.Host.csproj
  projector=src/Hosts/Projector/Projector.Host.csproj promoter=src/Hosts/Promoter/Promoter.Host.csproj
  api=src/Hosts/Api/Api.Host.csproj sample-job=src/SampleJob/SampleJob.csproj)
mkdir -p "$data/apps"
if [ "${STREAMING_SKIP_SETUP:-}" != 1 ]; then
  scripts/setup.sh || fail "set-up failed (see above)"
  scripts/ready-to-run.sh "${apps[@]}" >/dev/null || fail "publishing the services ReadyToRun failed (see above)"
  for app in "${apps[@]}"; do ln -sfn "$repo/artifacts/r2r/${app%%=*}" "$data/apps/${app%%=*}"; done
else
  for app in "${apps[@]}"; do
    project=${app#*=}
    ln -sfn "$repo/$(dirname "$project")/bin/Release/net10.0/linux-x64" "$data/apps/${app%%=*}"
  done
fi
export STREAMING_APPS=$data/apps
# Each service process compiles its hot code again at tier 1; a method is promoted after this many calls instead of 30,
# so the code a process runs only now and then is not recompiled in every copy (README, "Several instances and a
# sharded fleet"). An explicit setting wins.
export DOTNET_TC_CallCountThreshold=${DOTNET_TC_CallCountThreshold:-2000}
# An idle thread-pool thread sleeps at once instead of spinning on sched_yield first (.NET's default spin): on a small
# machine the services share with PostgreSQL, the spinning took a tenth of a core from the work (README, "The embedded
# broker's walk"). An explicit setting wins.
export DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=${DOTNET_ThreadPool_UnfairSemaphoreSpinLimit:-0}

if [ "$http_port" = 0 ]; then
  http_port=$(scripts/free-port.sh) || fail "no free port"
fi
pg_port=${STREAMING_PG_PORT:-55433}
# Shard 0's cluster is the one of an unsharded run ($data/postgres); shard s's is $data/postgres-shard<s>, on the port s above.
shard_dir() { if [ "$1" = 0 ]; then echo "$data/postgres"; else echo "$data/postgres-shard$1"; fi; }
started_shards=0
cleanup() {
  if $all_in_one; then scripts/rabbitmq.sh stop "$data/rabbitmq" 9>&- || true; fi
  for ((s = 0; s < started_shards; s++)); do scripts/postgres.sh stop "$(shard_dir "$s")" 9>&- || true; done
  rm -f "$data/run.pid"
}
trap cleanup EXIT
connections=()
for ((s = 0; s < shards; s++)); do
  started_shards=$((s + 1))
  started=$(scripts/postgres.sh start "$(shard_dir "$s")" "$((pg_port + s))" 9>&-) || fail "PostgreSQL$([ "$s" = 0 ] || echo " of shard $s") did not start (see above)"
  connections+=("$started")
done
connection=${connections[0]}
# What run.procfile's lines are given (besides what the processes before them announce).
export ConnectionStrings__EventStore=$connection STREAMING_DATA=$data STREAMING_HTTP_PORT=$http_port
echo "PostgreSQL: $connection"
supervisor_endpoints=(--endpoint "postgresConnectionString=$connection")
if [ "$shards" -gt 1 ]; then
  export Store__Shards=$shards
  for ((s = 1; s < shards; s++)); do
    export "ConnectionStrings__EventStoreShard$s=${connections[s]}"
    supervisor_endpoints+=(--endpoint "postgresShard${s}ConnectionString=${connections[s]}")
    echo "PostgreSQL of shard $s: ${connections[s]}"
  done
fi

# Several Projectors and Promoters own log partitions through their groups, Kafka partition k being log partition k,
# and shards hold log partitions: the store (each shard's) needs as many log partitions as job-signals. A store made by a
# single-instance run has one, fixed.
if [ "$instances" -gt 1 ] || [ "$shards" -gt 1 ]; then
  flag=$([ "$shards" -gt 1 ] && echo "--shards $shards" || echo "--instances $instances")
  if command -v psql >/dev/null; then
    for ((s = 0; s < shards; s++)); do
      port=$(sed -n 's/.*Port=\([0-9]*\).*/\1/p' <<<"${connections[s]}")
      made=$(psql "host=127.0.0.1 port=$port user=postgres dbname=postgres" -Atqc 'select partitions from es.log_partitioning' 2>/dev/null || true)
      [ -z "$made" ] || [ "$made" = "$partitions" ] || fail "$flag needs a store with $partitions log partitions (one per job-signals partition); the one in $(shard_dir "$s") has $made, fixed when it was made: set STREAMING_DATA to another folder, or remove that one"
    done
  fi
  export Store__LogPartitions=$partitions
fi
if [ "$instances" -gt 1 ]; then
  export Projector__Ownership__Enabled=true Promoter__Ownership__Enabled=true
fi

# With shards, the projector and promoter lines run once per shard (projector-shard<s>, told Store__Shard=s), from a
# procfile made here in the data folder (its commands run from this folder, as run.procfile's); Ingest, the API and
# the rest stay one set over every shard.
procfile=run.procfile
roles=(ingest projector promoter)
if [ "$shards" -gt 1 ]; then
  procfile=$data/run.procfile
  awk -v shards="$shards" -v repo="$repo" '
    /^[A-Za-z0-9_-]+( ready)?: / {
      head = substr($0, 1, index($0, ": ") + 1); command = substr($0, length(head) + 1)
      if (head ~ /^(projector|promoter): $/) {
        for (s = 0; s < shards; s++) printf "%s-shard%d: env -C \047%s\047 Store__Shard=%d %s\n", substr(head, 1, length(head) - 2), s, repo, s, command
      } else {
        printf "%senv -C \047%s\047 %s\n", head, repo, command
      }
      next
    }
    { print }' run.procfile >"$procfile" || fail "cannot write $procfile"
  roles=(ingest)
  for ((s = 0; s < shards; s++)); do roles+=("projector-shard$s" "promoter-shard$s"); done
fi
if [ "$instances" -gt 1 ]; then
  for role in "${roles[@]}"; do supervisor_flags+=(--instances "$role=$instances"); done
fi

# The child runs in a session of its own and hears of a stop from this script alone, once: a Ctrl-C or a process
# manager's `kill -TERM -- -PGID` reaches every process of this group, and a second signal tells the supervisor to kill
# at once. A second Ctrl-C or TERM to this script still does that.
if $all_in_one; then
  Bus__RabbitMqUrl=$(scripts/rabbitmq.sh start "$data/rabbitmq" 9>&-) || fail "RabbitMQ did not start (see above)"
  export Bus__RabbitMqUrl
  echo "RabbitMQ: $Bus__RabbitMqUrl"
  setsid dotnet "$STREAMING_APPS/embedded/Streaming.Embedded.dll" --endpoints-file "$data/endpoints.json" --http-port "$http_port" "${embedded_flags[@]}" &
else
  setsid dotnet "$(dll Supervisor)" --procfile "$procfile" --run-dir "$data" \
    "${supervisor_endpoints[@]}" "${supervisor_flags[@]}" &
fi
child=$!
# Ctrl-C or TERM (to this script or its whole group): the child stops its processes in order, then this script stops PostgreSQL.
trap 'kill -TERM "$child" 2>/dev/null || true' INT TERM
status=0
wait "$child" || status=$?
while kill -0 "$child" 2>/dev/null; do
  status=0
  wait "$child" || status=$?
done
exit "$status"
