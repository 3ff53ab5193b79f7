#!/usr/bin/env bash
# Prepares a fresh Debian 12 machine for building and running Streaming: the Debian packages it needs, then restore and
# build. librdkafka comes from NuGet (the official librdkafka.redist package Confluent.Kafka is built against).
#   scripts/setup.sh             install what is missing, restore, build
#   scripts/setup.sh --no-build  install what is missing only
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log() { printf '[setup] %s\n' "$*" >&2; }
fail() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

install_debian_packages() {
  local missing=()
  command -v initdb >/dev/null || [ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql)
  command -v kcat >/dev/null || missing+=(kcat)
  command -v python3 >/dev/null || missing+=(python3)
  if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || fail "missing Debian packages (${missing[*]}); run as root or install them first"
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || fail "apt-get update failed"
    apt-get install -y -qq "${missing[@]}" >/dev/null || fail "apt-get install ${missing[*]} failed"
  fi
}

command -v dotnet >/dev/null || fail "the .NET SDK (dotnet) is not on PATH"
install_debian_packages
if [ "${1:-}" != "--no-build" ]; then
  log "restoring and building"
  dotnet build "$repo/Streaming.sln" -c Release -nologo -v q -clp:ErrorsOnly || fail "the build failed"
fi
