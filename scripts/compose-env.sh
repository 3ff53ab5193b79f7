#!/usr/bin/env bash
# Writes the env file docker-compose reads (default: .env beside docker-compose.yml) from .env.example with random
# passwords, mode 0600. An existing file is kept: its passwords are already in the database volume.
#   scripts/compose-env.sh [FILE] [NAME=VALUE...]   (NAME=VALUE lines override the example's, e.g. POSTGRES_PORT=15432)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
file=${1:-$repo/.env}
[ $# -gt 0 ] && shift
if [ -e "$file" ]; then echo "$file exists; kept" >&2; exit 0; fi
random() { head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9'; }
umask 077
sed -e "s/^POSTGRES_PASSWORD=.*/POSTGRES_PASSWORD=$(random)/" -e "s/^RABBITMQ_PASSWORD=.*/RABBITMQ_PASSWORD=$(random)/" \
  "$repo/.env.example" > "$file.tmp"
for setting in "$@"; do
  name=${setting%%=*}
  if grep -q "^$name=" "$file.tmp"; then
    sed -i "s|^$name=.*|$setting|" "$file.tmp"
  else
    printf '%s\n' "$setting" >> "$file.tmp"
  fi
done
mv "$file.tmp" "$file"
echo "wrote $file" >&2
