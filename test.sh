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

# Everything that waits on the network or the disk runs in the background from the start, beside the solution's build
# (CPU-bound), one apt at a time, in the order the run needs them: the Docker engine's packages first (debootstrap and
# the base images are the longest chain, and they need no other package), then the servers every test needs (RabbitMQ
# boots once its package is in: the tests start when it is up and the solution built), then the tools only some tests
# need (Chromium, promtool, kcat), which install while the tests run. The engine's chain goes on with the base images
# (Debian, PostgreSQL, RabbitMQ, .NET runtime) and the service images once the solution is built. The tests that need
# a tool wait for the packages' status file, the deployment tests for the images' (each step's exit status, its log
# beside it).
docker_dir=$(mktemp -d /tmp/streaming-test-docker.XXXXXX) || fail "cannot create a folder for the Docker engine"
export STREAMING_TEST_IMAGES_STATUS=$docker_dir/images.status
(
  status=0 rootfs=
  export DEBIAN_ROOTFS=$docker_dir/rootfs
  # The solution's build ends with built (or build-failed); the services are published from it right away, beside the
  # base images (from nothing they take longer than the build). Without ReadyToRun: crossgen2 would add minutes of CPU
  # to every test run for what the deployment tests do not measure.
  (
    until [ -e "$docker_dir/built" ] || [ -e "$docker_dir/build-failed" ]; do sleep 1; done
    [ -e "$docker_dir/built" ] && READY_TO_RUN=false IMAGES_STEP=publish scripts/images.sh
  ) & published=$!
  # Without an engine there is no image to reuse: the Debian base's root file system (debootstrap: a minute of
  # downloads and dpkg) is made while the engine's packages install.
  if ! command -v dockerd >/dev/null && { command -v debootstrap >/dev/null || scripts/debian-packages.sh debootstrap; }; then
    IMAGES_STEP=rootfs scripts/images.sh & rootfs=$!
  fi
  scripts/docker-engine.sh start "$docker_dir" > "$docker_dir/engine" || status=$?
  touch "$docker_dir/engine-done"
  [ -z "$rootfs" ] || wait "$rootfs" || status=$?
  if [ "$status" = 0 ]; then IMAGES_STEP=bases scripts/images.sh || status=$?; fi
  publish_status=0
  wait "$published" || publish_status=$?
  [ "$status" != 0 ] || status=$publish_status
  if [ "$status" = 0 ]; then PUBLISHED=true IMAGES_STEP=services scripts/images.sh || status=$?; fi
  echo "$status" > "$STREAMING_TEST_IMAGES_STATUS"
) > "$docker_dir/images.log" 2>&1 &
images_build=$!

rabbit_dir=$(mktemp -d /tmp/streaming-test-rabbitmq.XXXXXX) || fail "cannot create a folder for RabbitMQ"
packages_dir=$(mktemp -d /tmp/streaming-test-packages.XXXXXX) || fail "cannot create a folder for the packages' status"
export STREAMING_TEST_PACKAGES_STATUS=$packages_dir/packages.status
(
  until [ -e "$docker_dir/engine-done" ]; do sleep 0.5; done
  scripts/setup.sh --packages-only servers || { touch "$packages_dir/servers-done"; exit 1; }
  touch "$packages_dir/servers-done"
  scripts/rabbitmq.sh start "$rabbit_dir" > "$rabbit_dir/url" || exit 2
  echo $((SECONDS - started_at)) > "$rabbit_dir/ready-at"
) 2> "$rabbit_dir/start.err" &
servers=$!
(
  until [ -e "$packages_dir/servers-done" ]; do sleep 0.5; done
  status=0
  scripts/setup.sh --packages-only tools || status=$?
  echo $((SECONDS - started_at)) > "$packages_dir/tools-at"
  echo "$status" > "$STREAMING_TEST_PACKAGES_STATUS"
) > "$packages_dir/packages.log" 2>&1 &
tools=$!
cleanup() {
  [ -e "$docker_dir/built" ] || touch "$docker_dir/build-failed"
  wait "$images_build" 2>/dev/null || true
  [ "$(cat "$docker_dir/engine" 2>/dev/null)" != started ] || scripts/docker-engine.sh stop "$docker_dir" || true
  rm -rf --one-file-system "$docker_dir"
  wait "$servers" "$tools" 2>/dev/null || true
  scripts/rabbitmq.sh stop "$rabbit_dir" 2>/dev/null || true
  rm -rf "$rabbit_dir" "$packages_dir"
  remove_throwaway_postgres
}
trap cleanup EXIT

scripts/setup.sh --no-packages || fail "set-up failed (see above)"
touch "$docker_dir/built"
build_done=$((SECONDS - started_at))
servers_status=0
wait "$servers" || servers_status=$?
[ "$servers_status" = 0 ] || { cat "$rabbit_dir/start.err" >&2; fail "$([ "$servers_status" = 1 ] && echo "set-up failed" || echo "RabbitMQ did not start") (see above)"; }
built_at=$SECONDS
built_cpu=$(machine_cpu)
start_throwaway_postgres test
export STREAMING_TEST_POSTGRES=$postgres_connection
STREAMING_TEST_RABBITMQ=$(cat "$rabbit_dir/url") || fail "RabbitMQ did not say where it listens"
export STREAMING_TEST_RABBITMQ

results=$repo/artifacts/test-results
rm -rf "$results"
set +e
dotnet test Streaming.sln -c Release --no-build --nologo \
  --logger "trx;LogFileName=tests.trx" --logger "console;verbosity=normal" --results-directory "$results" "$@"
status=$?
set -e
printf '[test] %s s set-up and build (built at %s s, servers in and RabbitMQ up at %s s, tools in at %s s), %s s tests (machine CPU %s s and %s s); images: %s\n' \
  "$((built_at - started_at))" "$build_done" "$(cat "$rabbit_dir/ready-at")" "$(cat "$packages_dir/tools-at" 2>/dev/null || echo "-")" \
  "$((SECONDS - built_at))" "$((built_cpu - started_cpu))" "$(($(machine_cpu) - built_cpu))" \
  "$(grep -h '^\[images\]' "$docker_dir/images.log" | tr '\n' ';')" >&2

python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
for path in glob.glob(sys.argv[1] + "/**/*.trx", recursive=True):
    root = ET.parse(path).getroot()
    # The failures again, just above the summary: a CI log kept only by its tail still names them and says why.
    for result in root.iterfind(".//{*}UnitTestResult"):
        if result.get("outcome") not in ("Failed", "Error", "Timeout", "Aborted"):
            continue
        message = result.find(".//{*}ErrorInfo/{*}Message")
        lines = (message.text or "").strip().splitlines() if message is not None else []
        trace = result.find(".//{*}ErrorInfo/{*}StackTrace")
        # Where it failed: the first frames in the project's own code, which the message alone seldom says.
        frames = [f.strip() for f in (trace.text or "").splitlines() if f.strip().startswith("at Streaming.")][:4] if trace is not None else []
        print(f"[failed] {result.get('testName')} ({result.get('duration')}): " + " | ".join(lines[:6])[:1500]
              + ("".join("\n    " + f[:300] for f in frames)))
    counters = root.find(".//{*}Counters")
    if counters is None:
        continue
    passed += int(counters.get("passed", 0))
    failed += int(counters.get("failed", 0)) + int(counters.get("error", 0)) + int(counters.get("timeout", 0)) + int(counters.get("aborted", 0))
    # vstest writes skipped tests as neither passed nor notExecuted: they are the ones counted but not executed
    skipped += max(int(counters.get("notExecuted", 0)), int(counters.get("total", 0)) - int(counters.get("executed", 0)))
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
