#!/usr/bin/env bash
# Prepares a fresh Debian 12 machine for building and running Streaming: the Debian packages it needs (PostgreSQL,
# RabbitMQ, kcat, python3, Chromium, Prometheus's promtool), then restore and build. librdkafka comes from NuGet (the official librdkafka.redist package Confluent.Kafka is built against).
#   scripts/setup.sh                  install what is missing, restore, build
#   scripts/setup.sh --no-build       install what is missing only
#   scripts/setup.sh --packages-only [servers|tools]
#                                     the Debian packages only, or one group of them: the servers every test needs
#                                     (PostgreSQL, RabbitMQ, python3), the tools some tests need (Chromium, promtool,
#                                     kcat). test.sh installs the servers beside the build and the tools beside the tests
#   scripts/setup.sh --no-packages    everything but the Debian packages: uPlot, restore, build
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log() { printf '[setup] %s\n' "$*" >&2; }
fail() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

install_debian_packages() { # [servers|tools]
  local missing=() group=${1:-all}
  if [ "$group" != tools ]; then
    command -v initdb >/dev/null || [ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql)
    command -v python3 >/dev/null || missing+=(python3)
    [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
  fi
  if [ "$group" != servers ]; then
    command -v kcat >/dev/null || missing+=(kcat)
    # The fonts Chromium recommends: the pages' text is laid out and screenshotted with them.
    command -v chromium >/dev/null || missing+=(chromium fonts-liberation)
    # promtool, for the alert rules' tests (deploy/prometheus); the package's own server is never started.
    command -v promtool >/dev/null || missing+=(prometheus)
  fi
  [ ${#missing[@]} -eq 0 ] && return
  log "installing Debian packages: ${missing[*]}"
  "$repo/scripts/debian-packages.sh" "${missing[@]}" || fail "installing ${missing[*]} failed"
}

# The dashboards' charting library, from the npm registry, into a folder git ignores (nothing of it is committed, and
# nothing is fetched from a CDN at run time). The build copies it beside the API.
fetch_front_end_libraries() {
  local target="$repo/src/Api/dashboard/vendor/uplot" version=1.6.32
  [ -f "$target/uPlot.iife.min.js" ] && [ -f "$target/uPlot.min.css" ] && [ "$(cat "$target/VERSION" 2>/dev/null)" = "$version" ] && return
  command -v npm >/dev/null || fail "npm is not on PATH (needed once to fetch uPlot $version for the dashboards)"
  log "fetching uPlot $version from the npm registry"
  local work
  work=$(mktemp -d)
  (cd "$work" && npm pack "uplot@$version" --silent >/dev/null 2>&1) || { rm -rf "$work"; fail "npm pack uplot@$version failed"; }
  tar -xzf "$work/uplot-$version.tgz" -C "$work" || { rm -rf "$work"; fail "unpacking uplot-$version.tgz failed"; }
  mkdir -p "$target"
  cp "$work/package/dist/uPlot.iife.min.js" "$work/package/dist/uPlot.min.css" "$work/package/LICENSE" "$target/" \
    || { rm -rf "$work"; fail "uplot-$version lacks its built files"; }
  echo "$version" > "$target/VERSION"
  rm -rf "$work"
}

command -v dotnet >/dev/null || fail "the .NET SDK (dotnet) is not on PATH"
mode=${1:-}
[ "$mode" = --no-packages ] || install_debian_packages "${2:-}"
[ "$mode" = --packages-only ] && exit 0
fetch_front_end_libraries
if [ "$mode" != "--no-build" ]; then
  log "restoring and building"
  dotnet build "$repo/Streaming.sln" -c Release -nologo -v q -clp:ErrorsOnly || fail "the build failed"
fi
