#!/usr/bin/env bash
# Installs Debian packages for the other scripts here (scripts/setup.sh, scripts/docker-engine.sh), as root, asking
# nothing: apt's package lists are refreshed first unless that was done within the hour, and no packaged service starts
# on install (a policy-rc.d answering 101 while apt runs): every server here is started by a script, with its own
# options and ports, never Debian's default node of RabbitMQ (port 5672) or Docker engine. Recommended packages are
# left out (on a fresh machine they doubled the count: Chromium's printer and notification tools, Prometheus's node
# exporter, needrestart, which then runs after every apt): a caller names any it needs.
#   scripts/debian-packages.sh PACKAGE...
set -euo pipefail

fail() { printf '[packages] error: %s\n' "$*" >&2; exit 1; }

[ $# -gt 0 ] || exit 0
[ "$(id -u)" = 0 ] || fail "missing Debian packages ($*); run as root or install them first"
export DEBIAN_FRONTEND=noninteractive
# One apt at a time: another install (another script's, another test run's) holds the lock for a while.
apt=(apt-get -y -qq -o DPkg::Lock::Timeout=600)

stamp=/var/tmp/streaming-apt-lists-updated
refresh() { "${apt[@]}" update && touch "$stamp"; }
# The stamp alone does not say the lists are there (an apt-get clean, a machine image without them).
if [ -z "$(find "$stamp" -mmin -60 2>/dev/null)" ] || ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
  refresh || fail "apt-get update failed"
fi
policy=/usr/sbin/policy-rc.d
placed=
if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; placed=1; fi
status=0
install() { "${apt[@]}" install --no-install-recommends "$@" >/dev/null; }
# Lists refreshed within the hour can still lag the mirror (a package replaced by a newer version since): update, then once more.
install "$@" || { refresh && install "$@"; } || status=$?
[ -z "$placed" ] || rm -f "$policy"
[ "$status" = 0 ] || fail "apt-get install $* failed"
