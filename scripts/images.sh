#!/usr/bin/env bash
# Builds every image of the container deployment on this machine, with no registry: a Debian base from debootstrap,
# PostgreSQL 15 and RabbitMQ from Debian's packages, a .NET runtime-deps base, and one image per service (Ingest,
# Projector, Promoter, Api, and the embedded broker for local runs), published on the host and copied in onto an ASP.NET
# Core runtime base assembled from this machine's .NET installation.
#   scripts/images.sh [TAG]     (TAG defaults to "local"; images are streaming/NAME:TAG)
#   IMAGES_STEP=bases scripts/images.sh      only the base and third-party images (needs no build of the solution)
#   IMAGES_STEP=services scripts/images.sh   only the service images (needs the solution built in Release)
#   READY_TO_RUN=false scripts/images.sh     services published without ReadyToRun compilation (test.sh: quicker to
#                                            build, more JIT while they run)
#   IMAGES_STEP=publish scripts/images.sh    only publish the services (needs the solution built, no engine: test.sh
#                                            publishes them beside the base images); then
#   PUBLISHED=true IMAGES_STEP=services scripts/images.sh   builds their images from those folders
#   DEBIAN_ROOTFS=DIR IMAGES_STEP=rootfs scripts/images.sh
#                                            only the Debian base's root file system, into DIR (needs no engine: test.sh
#                                            makes it on a fresh machine while the engine's packages install); a later
#                                            step with the same DEBIAN_ROOTFS imports it instead of running debootstrap
# Layers are cached between runs: the Debian base is kept once imported, and docker's build cache does the rest.
# Production builds the service images against the official base instead:
#   docker build -f deploy/service.Dockerfile --build-arg BASE_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0 ...
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
tag=${1:-local}

log() { printf '[images] %s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
fail() { printf '[images] error: %s\n' "$*" >&2; exit 1; }

# The project published into each service image, one variable per service.
ingest_project=${INGEST_PROJECT:-src/Hosts/Ingest/Ingest.Host.csproj}
projector_project=${PROJECTOR_PROJECT:-src/Hosts/Projector/Projector.Host.csproj}
promoter_project=${PROMOTER_PROJECT:-src/Hosts/Promoter/Promoter.Host.csproj}
api_project=${API_PROJECT:-src/Hosts/Api/Api.Host.csproj}
broker_project=${BROKER_PROJECT:-src/Embedded/Embedded.csproj}
services=(ingest projector promoter api broker)
project_of() { local variable=$1_project; echo "${!variable}"; }

debian_image=streaming/debian:bookworm-slim
publish_root=$repo/artifacts/publish
# Every image built here carries this label, so the untagged images a rebuild leaves behind can be removed without
# touching anyone else's.
built_by=io.streaming.built-by=scripts/images.sh

case "${IMAGES_STEP:-}" in
  rootfs|publish) ;;
  *) docker info >/dev/null 2>&1 || fail "no Docker engine answers (scripts/docker-engine.sh start DIR starts one)" ;;
esac

debian_mirror() {
  local uri
  uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

# What Debian's own slim images leave out: documentation, manuals and translations (the copyright files stay), now and
# for every package installed later (dpkg's path-exclude), and apt's package caches, which would otherwise add about
# 80 MB to each image that runs apt-get.
slim_rootfs() { # ROOTFS
  local rootfs=$1
  cat > "$rootfs/etc/dpkg/dpkg.cfg.d/streaming-slim" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
DPKG
  cat > "$rootfs/etc/apt/apt.conf.d/streaming-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} + 2>/dev/null || true
  rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/lintian/* \
    "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log
}

# The Debian base's root file system: a minimal bookworm from debootstrap, slimmed. DIR/complete marks it whole.
debian_rootfs() { # DIR
  local rootfs=$1
  [ ! -e "$rootfs/complete" ] || return 0
  command -v debootstrap >/dev/null || fail "debootstrap is not installed (scripts/docker-engine.sh start installs it)"
  rm -rf --one-file-system "$rootfs" && mkdir -p "$rootfs"
  log "debootstrap bookworm from $(debian_mirror)"
  debootstrap --variant=minbase bookworm "$rootfs" "$(debian_mirror)" > "$rootfs.log" 2>&1 \
    || { tail -20 "$rootfs.log" >&2; rm -rf --one-file-system "$rootfs" "$rootfs.log"; fail "debootstrap failed"; }
  # The host's apt sources (the same mirror) replace debootstrap's single line.
  cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/" 2>/dev/null && rm -f "$rootfs/etc/apt/sources.list"
  slim_rootfs "$rootfs"
  rm -f "$rootfs.log"
  touch "$rootfs/complete"
  log "debootstrapped the Debian base"
}

# The Debian base image, imported once and kept: from DEBIAN_ROOTFS when set (made beforehand, or now), else from a
# root file system made for it and removed after.
build_debian() {
  if docker image inspect "$debian_image" >/dev/null 2>&1; then
    return
  fi
  local rootfs=${DEBIAN_ROOTFS:-}
  [ -n "$rootfs" ] || rootfs=$(mktemp -d /tmp/streaming-debian-rootfs.XXXXXX)
  debian_rootfs "$rootfs"
  tar -C "$rootfs" --exclude=./complete -c . | docker import -c 'CMD ["bash"]' - "$debian_image" >/dev/null
  rm -rf --one-file-system "$rootfs"
  docker image rm streaming/debian:bookworm >/dev/null 2>&1 || true # the unslimmed base of earlier versions
  log "imported $debian_image"
}

build() { # NAME DOCKERFILE CONTEXT [ARGS...]
  local name=$1 dockerfile=$2 context=$3
  shift 3
  local output
  output=$(docker build --network host --label "$built_by" -t "streaming/$name:$tag" -f "$dockerfile" "$@" "$context" 2>&1) \
    || { printf '%s\n' "$output" | tail -30 >&2; fail "building streaming/$name:$tag failed (docker build -f $dockerfile $context)"; }
  log "built streaming/$name:$tag"
}

# The ASP.NET Core runtime base: runtime-deps plus this machine's .NET shared runtimes (the ones the services were
# built against), staged as hard links where the file system allows.
build_dotnet_base() {
  local dotnet_root staging
  dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
  staging=$(mktemp -d /tmp/streaming-dotnet-runtime.XXXXXX)
  cp -al "$dotnet_root/dotnet" "$dotnet_root/host" "$dotnet_root/shared" "$dotnet_root/LICENSE.txt" "$staging/" 2>/dev/null \
    || cp -a "$dotnet_root/dotnet" "$dotnet_root/host" "$dotnet_root/shared" "$dotnet_root/LICENSE.txt" "$staging/"
  build aspnet deploy/aspnet.Dockerfile "$staging" --build-arg "RUNTIME_DEPS_IMAGE=streaming/runtime-deps:$tag"
  rm -rf "$staging"
}

# Framework-dependent publish of the built solution (--no-build: the caller has built it, Release), so nothing here
# writes to the projects' obj/ folders while a build or test run uses them.
publish() { # NAME PROJECT
  local name=$1 project=$2 out=$publish_root/$1
  mkdir -p "$publish_root"
  rm -rf "$out"
  dotnet publish "$project" -c Release -r linux-x64 --self-contained false --no-build -p:PublishReadyToRun="${READY_TO_RUN:-true}" \
    -nologo -v q -clp:ErrorsOnly -o "$out" >/dev/null \
    || fail "dotnet publish $project failed (is the solution built in Release?)"
  cp deploy/healthcheck.sh "$out/healthcheck.sh"
}

assembly_name() { # PROJECT
  local name
  name=$(sed -n 's/.*<AssemblyName>\(.*\)<\/AssemblyName>.*/\1/p' "$1" | head -1)
  echo "${name:-Streaming.$(basename "$1" .csproj)}"
}

# Runs each argument (a function name) in the background and waits for all of them; fails when any failed. Image
# builds that depend only on the Debian base spend most of their time waiting on the mirror, so they overlap well.
side_by_side() { # FUNCTION...
  local pids=() failed=0 pid
  for step in "$@"; do "$step" & pids+=($!); done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  [ "$failed" = 0 ] || fail "a base image failed to build (see above)"
}

build_runtime_bases() {
  build runtime-deps deploy/runtime-deps.Dockerfile deploy --build-arg "DEBIAN_IMAGE=$debian_image"
  build_dotnet_base
}
build_postgres() { build postgres deploy/postgres.Dockerfile deploy --build-arg "DEBIAN_IMAGE=$debian_image"; }
build_rabbitmq() { build rabbitmq deploy/rabbitmq.Dockerfile deploy --build-arg "DEBIAN_IMAGE=$debian_image"; }

case "${IMAGES_STEP:-all}" in
  rootfs)
    debian_rootfs "${DEBIAN_ROOTFS:?the folder for the root file system}"
    exit 0
    ;;
  bases|all)
    build_debian
    side_by_side build_runtime_bases build_postgres build_rabbitmq
    ;;&
  publish)
    for service in "${services[@]}"; do publish "$service" "$(project_of "$service")"; done
    log "published the services"
    exit 0
    ;;
  services|all)
    for service in "${services[@]}"; do
      project=$(project_of "$service")
      [ "${PUBLISHED:-}" = true ] || publish "$service" "$project"
      build "$service" deploy/service.Dockerfile "$publish_root/$service" \
        --build-arg "BASE_IMAGE=streaming/aspnet:$tag" --build-arg "APP=$(assembly_name "$project")"
    done
    ;;
esac
docker image prune -f --filter "label=$built_by" >/dev/null 2>&1 || true
log "images built (tag $tag, ${IMAGES_STEP:-all})"
