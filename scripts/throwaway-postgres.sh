# Sourced by test.sh, bench.sh and the benchmark scripts: `fail` (a message naming the calling script, exit 1), and a
# PostgreSQL of the calling script's own.
#   start_throwaway_postgres NAME   starts one in a temporary folder on a free port; sets postgres_dir, postgres_port and
#                                   postgres_connection; any failure stops the calling script with a message
#   remove_throwaway_postgres       stops it and deletes its folder (for the caller's exit trap; nothing if none started)
caller=$(basename "$0")
fail() { printf '%s: %s\n' "$caller" "$*" >&2; exit 1; }

start_throwaway_postgres() {
  postgres_dir=$(mktemp -d "/tmp/streaming-$1-pg.XXXXXX") || fail "cannot create a folder for PostgreSQL"
  postgres_port=$(scripts/free-port.sh) || fail "no free port"
  postgres_connection=$(scripts/postgres.sh start "$postgres_dir" "$postgres_port") || fail "PostgreSQL did not start (see above)"
}

remove_throwaway_postgres() {
  [ -z "${postgres_dir:-}" ] || scripts/postgres.sh remove "$postgres_dir" || true
}
