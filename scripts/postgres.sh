#!/usr/bin/env bash
# Private PostgreSQL cluster on loopback for tests and local runs, from Debian's packages.
#   postgres.sh up | down | url | status
# Data and log live in var/postgres/ (VIGIE_PG_STATE); port 55432 (VIGIE_PG_PORT) so it never
# collides with a system cluster on 5432. TCP only: no Unix socket, whose path limit (107 bytes)
# a deep checkout would break, and no dependency on /var/run/postgresql.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
state="${VIGIE_PG_STATE:-$root/var/postgres}"
host=127.0.0.1
port="${VIGIE_PG_PORT:-55432}"
user="${VIGIE_PG_USER:-vigie}"
password="${VIGIE_PG_PASSWORD:-vigie}"
database="${VIGIE_PG_DATABASE:-vigie_test}"
data="$state/data"
log="$state/postgres.log"
superpw="$state/superuser.pw"

die() { echo "postgres.sh: $*" >&2; exit 1; }

# As root the server runs as `postgres`, which must reach the state dir. A checkout under a 0700
# directory (a home, some CI work dirs) blocks it; then the cluster lives under /var/tmp instead,
# at a path derived from the checkout so up, down and status agree. An explicit VIGIE_PG_STATE
# is taken as is and checked in init_cluster.
pick_state() {
  [ "$(id -u)" = 0 ] && [ -z "${VIGIE_PG_STATE:-}" ] && id postgres >/dev/null 2>&1 || return 0
  mkdir -p "$state" && chown postgres: "$state"
  if ! runuser -u postgres -- test -w "$state"; then
    local fallback
    fallback="/var/tmp/vigie-postgres-$(printf '%s' "$root" | cksum | cut -d' ' -f1)"
    echo "postgres.sh: user postgres cannot reach $state; using $fallback" >&2
    state=$fallback
  fi
}

# The server refuses to run as root, so as root every server-side command runs as the
# `postgres` OS user; a non-root developer runs it as themselves.
as_owner() {
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

find_bin() {
  local d
  # Highest installed major version wins (Debian 12 ships 15).
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -V -r); do
    if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  done
  return 1
}

install_server() {
  if bin=$(find_bin); then return 0; fi
  [ "$(id -u)" = 0 ] || die "PostgreSQL server not installed and not root: run 'sudo apt-get install -y postgresql'"
  command -v apt-get >/dev/null || die "PostgreSQL server not installed and apt-get not found"
  echo "postgres.sh: installing Debian's postgresql package" >&2
  apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null \
    || die "apt-get install postgresql failed"
  bin=$(find_bin) || die "postgresql installed but no /usr/lib/postgresql/*/bin/pg_ctl found"
}

running() { [ -n "${bin:-}" ] && [ -f "$data/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

psql_admin() {
  PGPASSWORD=$(cat "$superpw") "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$host" -p "$port" -U postgres "$@"
}

init_cluster() {
  if [ -f "$data/PG_VERSION" ]; then return 0; fi
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "OS user 'postgres' missing (it comes with Debian's postgresql package)"
  fi
  mkdir -p "$state"
  # The server user must reach the data dir: a checkout under a 0700 home would block it.
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$state"
    runuser -u postgres -- test -w "$state" \
      || die "user postgres cannot write $state (a parent directory is not traversable); set VIGIE_PG_STATE to a path it can reach"
  fi
  rm -rf "$data"
  # Superuser password in a 0600 file: loopback TCP with scram for every connection.
  (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$superpw")
  if [ "$(id -u)" = 0 ]; then chown postgres: "$superpw"; fi
  as_owner "$bin/initdb" -D "$data" -U postgres --pwfile="$superpw" \
    --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
    >"$state/initdb.log" 2>&1 || { cat "$state/initdb.log" >&2; die "initdb failed (log above)"; }
  cat >>"$data/postgresql.conf" <<CONF
# vigie: loopback only, TCP only, logs beside the data
listen_addresses = '$host'
port = $port
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
CONF
}

ensure_role_and_db() {
  # Idempotent: the role's password is reset on every up, the database created if absent.
  # CREATEDB lets tests make throwaway databases of their own.
  psql_admin -d postgres <<SQL || die "could not create role $user / database $database"
SELECT format('CREATE ROLE %I LOGIN CREATEDB', '$user')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$user') \gexec
ALTER ROLE "$user" WITH LOGIN CREATEDB PASSWORD '$password';
SELECT format('CREATE DATABASE %I OWNER %I', '$database', '$user')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$database') \gexec
SQL
}

up() {
  install_server
  init_cluster
  if running; then
    echo "postgres already running on $host:$port (data $data)"
  else
    # fsync=off etc. above: this cluster is disposable test state, speed beats durability.
    as_owner "$bin/pg_ctl" -D "$data" -l "$log" -o "-p $port" -w -t 60 start >/dev/null 2>&1 \
      || { tail -n 30 "$log" >&2 2>/dev/null; die "pg_ctl start failed on $host:$port (log $log, tail above)"; }
  fi
  for _ in $(seq 1 60); do
    if "$bin/pg_isready" -q -h "$host" -p "$port"; then
      ensure_role_and_db
      echo "postgres up on $host:$port (data $data, log $log)"
      return 0
    fi
    sleep 0.5
  done
  tail -n 30 "$log" >&2 2>/dev/null || true
  die "server started but pg_isready failed on $host:$port for 30 s"
}

down() {
  bin=$(find_bin) || { echo "postgres not installed, nothing to stop"; return 0; }
  if ! running; then echo "postgres not running"; return 0; fi
  # fast: roll back open transactions and disconnect clients, then a clean shutdown.
  as_owner "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null \
    || die "pg_ctl stop failed (log $log)"
  echo "postgres stopped"
}

status() {
  bin=$(find_bin) || { echo "not installed"; exit 1; }
  if running && "$bin/pg_isready" -q -h "$host" -p "$port"; then
    echo "running on $host:$port (data $data)"
  else
    echo "stopped"; exit 1
  fi
}

case "${1:-}" in
  up|down|status) pick_state; data="$state/data"; log="$state/postgres.log"; superpw="$state/superuser.pw" ;;
esac

case "${1:-}" in
  up) up ;;
  down) down ;;
  url) echo "postgresql+asyncpg://$user:$password@$host:$port/$database" ;;
  status) status ;;
  *) echo "usage: $0 up|down|url|status" >&2; exit 2 ;;
esac
