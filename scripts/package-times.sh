#!/usr/bin/env bash
# Measures what the Debian packages cost a fresh machine, without touching this one's: a Debian 12 root file system from
# debootstrap (the default variant, plus PostgreSQL and python3, which the machines here come with) in a folder of its
# own, into which each group test.sh installs is downloaded and then installed, in test.sh's order, with the options
# scripts/debian-packages.sh uses. Prints one line a group: packages, download seconds, install (dpkg) seconds wall and
# CPU (user + system, which unlike wall time barely grow with others' load), the load average.
# The folder is removed at the end. Root only; about 10 minutes and 1.5 GB of disk.
#   scripts/package-times.sh                     as scripts/debian-packages.sh installs them (no recommended packages)
#   scripts/package-times.sh --with-recommends   with apt's default, for comparison
set -euo pipefail

fail() { printf '[package-times] error: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "root only (debootstrap, chroot)"
[ -x /usr/bin/time ] || fail "/usr/bin/time is not installed (Debian's time package)"
command -v debootstrap >/dev/null || fail "debootstrap is not installed"
options=(--no-install-recommends)
[ "${1:-}" != --with-recommends ] || options=()

root=$(mktemp -d /tmp/streaming-package-times.XXXXXX)
cleanup() { umount "$root/proc" 2>/dev/null || true; rm -rf --one-file-system "$root" "$root.time"; }
trap cleanup EXIT
mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
debootstrap bookworm "$root" "${mirror:-http://deb.debian.org/debian}" > "$root.log" 2>&1 || { tail -20 "$root.log" >&2; fail "debootstrap failed"; }
rm -f "$root.log"
cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/" && rm -f "$root/etc/apt/sources.list"
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d" && chmod +x "$root/usr/sbin/policy-rc.d"
mount -t proc proc "$root/proc"
in_root=(chroot "$root" env DEBIAN_FRONTEND=noninteractive LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin)
"${in_root[@]}" apt-get -qq update
"${in_root[@]}" apt-get install -y -qq postgresql python3 > /dev/null
seconds() { /usr/bin/time -f '%e s (CPU %U + %S s)' -o "$root.time" "${in_root[@]}" "$@" > /dev/null && cat "$root.time"; }
# test.sh's order: the engine's packages (and debootstrap), the servers, the tools (Chromium with its fonts).
for group in "debootstrap docker.io docker-compose" "rabbitmq-server" "chromium fonts-liberation prometheus kcat"; do
  count=$("${in_root[@]}" apt-get install -s "${options[@]}" $group | grep -c '^Inst ' || true)
  download=$(seconds apt-get install -y -qq "${options[@]}" --download-only $group)
  install=$(seconds apt-get install -y -qq "${options[@]}" $group)
  echo "[$group] $count packages: download $download, install $install, load average $(cut -d' ' -f1 /proc/loadavg)"
done
