#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine, as the tests and scripts/images.sh need one.
#   scripts/docker-engine.sh start DIR  -> installs Debian's docker.io, docker-compose and debootstrap if missing; starts
#                                          dockerd (logs in DIR) unless one already answers; waits for `docker info`;
#                                          removes the containers killed test runs left in an engine it started.
#                                          Prints "started" when it started the engine (so the caller stops it), else
#                                          "running".
#   scripts/docker-engine.sh stop DIR   -> stops the engine started with that DIR (and only that one)
# There is no systemd here and no route out of the machine for containers: the engine runs without iptables or the
# default bridge; containers use user-defined networks or the host's network (image builds use --network host).
set -euo pipefail

log() { printf '[docker-engine] %s\n' "$*" >&2; }
fail() { printf '[docker-engine] error: %s\n' "$*" >&2; exit 1; }

action=${1:?start|stop}
dir=${2:?a folder for the engine log and pid}
mkdir -p "$dir"

install_missing() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  [ ${#missing[@]} -eq 0 ] && return
  log "installing Debian packages: ${missing[*]}"
  "$(dirname "${BASH_SOURCE[0]}")/debian-packages.sh" "${missing[@]}" || fail "installing ${missing[*]} failed"
}

# An engine this script has just started serves no test yet: every container, network and volume of the tests' compose
# projects and networks (streaming-test-*) or of Testcontainers is left from a run killed before it could remove them,
# and the engine's restart policy starts such containers again beside the new run.
remove_leftovers() {
  local containers networks volumes
  containers=$( { docker ps -a --format '{{.ID}} {{.Label "com.docker.compose.project"}}' | awk '$2 ~ /^streaming-test-/ { print $1 }'
                  docker ps -aq --filter label=org.testcontainers=true; } | sort -u)
  networks=$(docker network ls --format '{{.Name}}' | grep '^streaming-test-' || true)
  volumes=$(docker volume ls --format '{{.Name}} {{.Label "com.docker.compose.project"}}' | awk '$2 ~ /^streaming-test-/ { print $1 }')
  [ -z "$containers" ] || { docker rm -f $containers >/dev/null; log "removed $(wc -w <<< "$containers") containers left by an earlier test run"; }
  [ -z "$networks" ] || docker network rm $networks >/dev/null || true
  [ -z "$volumes" ] || docker volume rm $volumes >/dev/null || true
}

case "$action" in
  start)
    install_missing
    if docker info >/dev/null 2>&1; then echo running; exit 0; fi
    [ "$(id -u)" = 0 ] || fail "no Docker engine answers and only root can start one"
    setsid dockerd --iptables=false --ip6tables=false --bridge=none > "$dir/dockerd.log" 2>&1 < /dev/null &
    echo $! > "$dir/dockerd.pid"
    deadline=$((SECONDS + 60))
    until docker info >/dev/null 2>&1; do
      kill -0 "$(cat "$dir/dockerd.pid")" 2>/dev/null || fail "dockerd exited while starting: $(tail -3 "$dir/dockerd.log")"
      [ $SECONDS -lt $deadline ] || fail "dockerd did not answer within 60 s; see $dir/dockerd.log"
      sleep 0.5
    done
    remove_leftovers
    echo started
    ;;
  stop)
    [ -f "$dir/dockerd.pid" ] || exit 0
    pid=$(cat "$dir/dockerd.pid")
    kill "$pid" 2>/dev/null || exit 0
    timeout 30 tail --pid="$pid" -f /dev/null || kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/dockerd.pid"
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
