#!/usr/bin/env bash
# Prepares a fresh Debian 12 machine for building and running Streaming: Debian packages, a
# librdkafka 2.15.1 matching Confluent.Kafka 2.15.1 (built once from the source npm ships, cached
# outside the clone), the local NuGet feed that carries it, and the build itself.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${STREAMING_CACHE:-$HOME/.cache/streaming}
rdkafka_version=2.15.1
rdkafka_npm=@confluentinc/kafka-javascript@1.10.1
feed=$repo/.packages

log() { printf '[setup] %s\n' "$*" >&2; }

install_debian_packages() {
  local missing=()
  command -v initdb >/dev/null || [ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql)
  command -v kcat >/dev/null || missing+=(kcat)
  command -v make >/dev/null || missing+=(make)
  command -v gcc >/dev/null || missing+=(gcc)
  command -v python3 >/dev/null || missing+=(python3)
  command -v npm >/dev/null || missing+=(npm)
  dpkg -s libssl-dev >/dev/null 2>&1 || missing+=(libssl-dev)
  dpkg -s zlib1g-dev >/dev/null 2>&1 || missing+=(zlib1g-dev)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

build_librdkafka() {
  local out=$cache/librdkafka-$rdkafka_version
  if [ -f "$out/librdkafka.so" ]; then return; fi
  log "building librdkafka $rdkafka_version (once; cached in $out)"
  local work
  work=$(mktemp -d)
  (cd "$work" && npm pack --silent "$rdkafka_npm" >/dev/null && tar xzf ./*.tgz)
  local src=$work/package/deps/librdkafka
  grep -q "RD_KAFKA_VERSION 0x020f01ff" "$src/src/rdkafka.h" || { log "unexpected librdkafka version in $rdkafka_npm"; exit 1; }
  (cd "$src" && ./configure --disable-gssapi --disable-sasl --disable-curl >/dev/null && make -j"$(nproc)" libs >/dev/null 2>&1)
  mkdir -p "$out"
  cp "$src/src/librdkafka.so.1" "$out/librdkafka.so"
  rm -rf "$work"
}

pack_librdkafka_redist() {
  local nupkg=$feed/librdkafka.redist.$rdkafka_version.nupkg
  if [ -f "$nupkg" ] && [ "$nupkg" -nt "$cache/librdkafka-$rdkafka_version/librdkafka.so" ]; then return; fi
  log "packing librdkafka.redist $rdkafka_version into the local feed $feed"
  mkdir -p "$feed"
  python3 - "$nupkg" "$cache/librdkafka-$rdkafka_version/librdkafka.so" "$rdkafka_version" <<'PY'
import sys, zipfile
nupkg, so, version = sys.argv[1:4]
nuspec = f"""<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata>
    <id>librdkafka.redist</id>
    <version>{version}</version>
    <authors>Streaming (local build)</authors>
    <description>librdkafka {version} built on this machine from the source the npm package ships.</description>
  </metadata>
</package>"""
with zipfile.ZipFile(nupkg, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("librdkafka.redist.nuspec", nuspec)
    z.write(so, "runtimes/linux-x64/native/librdkafka.so")
PY
  # A stale extraction of an older local package would shadow the new one.
  rm -rf "$HOME/.nuget/packages/librdkafka.redist/$rdkafka_version"
}

install_debian_packages
build_librdkafka
pack_librdkafka_redist
if [ "${1:-}" != "--no-build" ]; then
  log "restoring and building"
  dotnet build "$repo/Streaming.sln" -c Release -nologo -v q -clp:ErrorsOnly
fi
