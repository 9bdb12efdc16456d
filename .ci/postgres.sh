#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on 127.0.0.1 for the multi-worker sweep tests; print its URL on stdout.
#
#   url=$(.ci/postgres.sh)            # installs Debian's postgresql when missing, starts a fresh cluster
#   export INPAINT_TEST_POSTGRES_URL="$url"
#   .ci/postgres.sh --stop            # stops the cluster started before (same PGTEST_DIR)
#
# PostgreSQL refuses to run as root, so the data directory is owned by the `postgres` system user (created by
# the Debian package) and the server runs as that user; it listens on loopback only, with trust auth.
# Environment: PGTEST_DIR (data + socket + log, default /tmp/inpaint-pgtest), PGTEST_PORT (default: a free one).
set -euo pipefail

dir="${PGTEST_DIR:-/tmp/inpaint-pgtest}"
log() { echo "postgres.sh: $*" >&2; }

as_postgres() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$found" ]; then
    if [ "$(id -u)" != "0" ]; then log "PostgreSQL is not installed and this user cannot apt-get it"; exit 1; fi
    log "installing Debian's postgresql package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    found=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$found"
}

bin=$(pg_bin)

if [ "${1:-}" = "--stop" ]; then
  if [ -f "$dir/data/postmaster.pid" ]; then as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast stop >&2; fi
  exit 0
fi

port="${PGTEST_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"

if [ -f "$dir/data/postmaster.pid" ]; then
  as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast stop >&2 || true
fi
rm -rf "$dir"
mkdir -p "$dir/data"
if [ "$(id -u)" = "0" ]; then chown -R postgres: "$dir"; fi
as_postgres "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=50" start >&2 \
  || { cat "$dir/server.log" >&2; exit 1; }
as_postgres "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres inpaint_test >&2
log "server running (data in $dir, stop with: $0 --stop)"
echo "postgresql://postgres@127.0.0.1:$port/inpaint_test"
