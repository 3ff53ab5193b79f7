#!/usr/bin/env bash
# Starts or stops a local PostgreSQL 15 cluster owned by the postgres user (PostgreSQL refuses root).
#   scripts/postgres.sh start DATA_DIR PORT   -> prints the connection string
#   scripts/postgres.sh stop DATA_DIR
set -euo pipefail

pg_bin() {
  local name=$1
  if command -v "$name" >/dev/null; then command -v "$name"; else echo "/usr/lib/postgresql/15/bin/$name"; fi
}

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

action=${1:?start|stop}
dir=${2:?data directory}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
[ "$(id -u)" = 0 ] && chown postgres "$dir"

case "$action" in
  start)
    port=${3:-55432}
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_postgres "$(pg_bin initdb)" -D "$dir/data" -A trust -U postgres >/dev/null
      cat >> "$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 200
max_locks_per_transaction = 256
shared_buffers = 256MB
wal_buffers = 16MB
max_wal_size = 2GB
idle_in_transaction_session_timeout = '5min'
CONF
    fi
    if ! as_postgres "$(pg_bin pg_ctl)" -D "$dir/data" status >/dev/null 2>&1; then
      as_postgres "$(pg_bin pg_ctl)" -D "$dir/data" -o "-p $port" -l "$dir/postgres.log" -w start >/dev/null
    fi
    echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
    ;;
  stop)
    as_postgres "$(pg_bin pg_ctl)" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop DATA_DIR [PORT]" >&2; exit 2 ;;
esac
