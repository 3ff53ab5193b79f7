#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what is missing, builds, starts a throwaway PostgreSQL and a
# private RabbitMQ node (the tests start their own embedded Kafka-protocol brokers), a Docker engine if none runs and the
# container images (in the background, for the deployment tests), runs every test, and ends with
# "N passed, N failed, N skipped".
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$repo"

source scripts/throwaway-postgres.sh

# CPU seconds the whole machine spent (user, nice, system, irq, softirq), to print beside the wall times: on a machine
# that runs nothing else (CI) they are this run's, and unlike wall time they do not grow with the load of others.
machine_cpu() { awk -v hz="$(getconf CLK_TCK)" '/^cpu / { printf "%d\n", ($2 + $3 + $4 + $7 + $8) / hz; exit }' /proc/stat; }

started_at=$SECONDS
started_cpu=$(machine_cpu)
scripts/setup.sh --no-build || fail "set-up failed (see above)"

# The Docker engine and the base images (Debian, PostgreSQL, RabbitMQ, .NET runtime) build in the background from here,
# the service images once the solution is built; the deployment tests wait for the status file (scripts/images.sh's exit
# status) and read images.log beside it when it failed.
docker_dir=$(mktemp -d /tmp/streaming-test-docker.XXXXXX) || fail "cannot create a folder for the Docker engine"
export STREAMING_TEST_IMAGES_STATUS=$docker_dir/images.status
(
  status=0
  scripts/docker-engine.sh start "$docker_dir" > "$docker_dir/engine" && IMAGES_STEP=bases scripts/images.sh || status=$?
  if [ "$status" = 0 ]; then
    # The solution's build ends with built (or build-failed); the service images are published from it.
    until [ -e "$docker_dir/built" ] || [ -e "$docker_dir/build-failed" ]; do sleep 1; done
    # Without ReadyToRun: crossgen2 would add minutes of CPU to every test run for what the deployment tests do not measure.
    [ -e "$docker_dir/built" ] && READY_TO_RUN=false IMAGES_STEP=services scripts/images.sh || status=$?
  fi
  echo "$status" > "$STREAMING_TEST_IMAGES_STATUS"
) > "$docker_dir/images.log" 2>&1 &
images_build=$!

# RabbitMQ boots (a few seconds of Erlang) while the solution builds.
rabbit_dir=$(mktemp -d /tmp/streaming-test-rabbitmq.XXXXXX) || fail "cannot create a folder for RabbitMQ"
scripts/rabbitmq.sh start "$rabbit_dir" > "$rabbit_dir/url" 2> "$rabbit_dir/start.err" &
rabbit_start=$!
cleanup() {
  [ -e "$docker_dir/built" ] || touch "$docker_dir/build-failed"
  wait "$images_build" 2>/dev/null || true
  [ "$(cat "$docker_dir/engine" 2>/dev/null)" != started ] || scripts/docker-engine.sh stop "$docker_dir" || true
  rm -rf "$docker_dir"
  wait "$rabbit_start" 2>/dev/null || true
  scripts/rabbitmq.sh stop "$rabbit_dir" 2>/dev/null || true
  rm -rf "$rabbit_dir"
  remove_throwaway_postgres
}
trap cleanup EXIT

scripts/setup.sh || fail "set-up failed (see above)"
touch "$docker_dir/built"
built_at=$SECONDS
built_cpu=$(machine_cpu)
start_throwaway_postgres test
export STREAMING_TEST_POSTGRES=$postgres_connection
wait "$rabbit_start" || { cat "$rabbit_dir/start.err" >&2; fail "RabbitMQ did not start"; }
STREAMING_TEST_RABBITMQ=$(cat "$rabbit_dir/url") || fail "RabbitMQ did not say where it listens"
export STREAMING_TEST_RABBITMQ

results=$repo/artifacts/test-results
rm -rf "$results"
set +e
dotnet test Streaming.sln -c Release --no-build --nologo \
  --logger "trx;LogFileName=tests.trx" --logger "console;verbosity=normal" --results-directory "$results" "$@"
status=$?
set -e
printf '[test] %s s set-up and build, %s s tests (machine CPU %s s and %s s); images: %s\n' "$((built_at - started_at))" \
  "$((SECONDS - built_at))" "$((built_cpu - started_cpu))" "$(($(machine_cpu) - built_cpu))" \
  "$(grep -h '^\[images\]' "$docker_dir/images.log" | tr '\n' ';')" >&2

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
