#!/usr/bin/env bash
# Starts, stops or removes a local PostgreSQL 15 cluster owned by the postgres user (PostgreSQL refuses root).
#   scripts/postgres.sh start DATA_DIR PORT   -> prints the connection string (the port the cluster really listens on)
#   scripts/postgres.sh stop DATA_DIR
#   scripts/postgres.sh remove DATA_DIR       stops the cluster and deletes its data
# Run as root, PostgreSQL runs as the postgres user, who cannot enter a folder under a private home (root's is mode
# 700): the data then lives in the postgres user's home (streaming/<hash of DATA_DIR>) and DATA_DIR becomes a link to it.
# Every failure ends with a message on stderr and a non-zero exit.
set -euo pipefail

fail() { printf 'postgres.sh: %s\n' "$*" >&2; exit 1; }

pg_bin() {
  local name=$1
  if command -v "$name" >/dev/null; then command -v "$name"; else echo "/usr/lib/postgresql/15/bin/$name"; fi
}

as_root() { [ "$(id -u)" = 0 ]; }
as_postgres() { if as_root; then runuser -u postgres -- "$@"; else "$@"; fi; }
reachable_by_postgres() { runuser -u postgres -- test -d "$1" -a -r "$1" -a -w "$1" -a -x "$1" 2>/dev/null; }

# Makes DATA_DIR a folder the cluster's owner can use, and prints its physical path.
prepare() {
  local dir=$1
  mkdir -p "$dir" || fail "cannot create $dir"
  if as_root; then
    local physical
    physical=$(cd "$dir" && pwd -P)
    chown postgres "$physical" || fail "cannot give $physical to the postgres user"
    if ! reachable_by_postgres "$physical"; then
      [ -z "$(ls -A "$physical")" ] || fail "the postgres user cannot reach $physical (a parent folder is private) and it is not empty"
      local home
      home=$(getent passwd postgres | cut -d: -f6)
      [ -n "$home" ] && [ -d "$home" ] || fail "the postgres user has no home folder to keep the data in"
      local target
      target="$home/streaming/$(printf '%s' "$physical" | sha256sum | cut -c1-16)"
      mkdir -p "$target" && chown postgres "$home/streaming" "$target" && chmod 700 "$target" || fail "cannot create $target"
      rmdir "$physical" && ln -s "$target" "$physical" || fail "cannot link $physical to $target"
      printf 'postgres.sh: the postgres user cannot reach %s (a parent folder is private); its data lives in %s, linked from there\n' \
        "$physical" "$target" >&2
      physical=$target
      reachable_by_postgres "$physical" || fail "the postgres user cannot reach $physical either"
    fi
    echo "$physical"
  else
    cd "$dir" && pwd -P
  fi
}

action=${1:?start|stop|remove}
dir=${2:?data directory}

case "$action" in
  start)
    port=${3:-55432}
    dir=$(prepare "$dir")
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      if ! as_postgres "$(pg_bin initdb)" -D "$dir/data" -A trust -U postgres >"$dir/initdb.log" 2>&1; then
        tail -n 20 "$dir/initdb.log" >&2
        fail "initdb failed for $dir/data (log above, in $dir/initdb.log)"
      fi
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
      if ! as_postgres "$(pg_bin pg_ctl)" -D "$dir/data" -o "-p $port" -l "$dir/postgres.log" -w start >/dev/null 2>&1; then
        tail -n 20 "$dir/postgres.log" >&2 || true
        if grep -q "could not bind" "$dir/postgres.log" 2>/dev/null; then
          fail "PostgreSQL could not listen on port $port: another server uses it (choose another port)"
        fi
        fail "PostgreSQL did not start from $dir/data (log above, in $dir/postgres.log)"
      fi
    fi
    # A cluster already running keeps the port it was started with.
    port=$(sed -n 4p "$dir/data/postmaster.pid" 2>/dev/null || echo "$port")
    echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
    ;;
  stop|remove)
    [ -e "$dir" ] || exit 0
    dir=$(cd "$dir" && pwd -P)
    if [ -f "$dir/data/PG_VERSION" ] && as_postgres "$(pg_bin pg_ctl)" -D "$dir/data" status >/dev/null 2>&1; then
      as_postgres "$(pg_bin pg_ctl)" -D "$dir/data" -m fast -w stop >/dev/null || fail "PostgreSQL in $dir/data did not stop"
    fi
    if [ "$action" = remove ]; then
      rm -rf "$dir"
      [ ! -L "$2" ] || rm -f "$2"
    fi
    ;;
  *) echo "usage: $0 start|stop|remove DATA_DIR [PORT]" >&2; exit 2 ;;
esac
