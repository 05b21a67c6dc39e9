#!/usr/bin/env bash
# Start a local PostgreSQL for the store's contract tests, idempotently, on Debian/Ubuntu.
#
#   export VMSYSTEM_TEST_POSTGRES_URL="$(scripts/start-test-postgres.sh)"
#   .venv/bin/pytest tests/store
#
# Installs the server if missing (apt-get; needs root or sudo), creates/starts a cluster,
# creates a role and a database, and prints the SQLAlchemy URL on stdout (logs go to stderr).
# Safe to run again: every step checks first. Overridable with environment variables:
#   VMSYSTEM_PG_USER (vmsystem), VMSYSTEM_PG_PASSWORD (vmsystem), VMSYSTEM_PG_DB (vmsystem_test),
#   VMSYSTEM_PG_CLUSTER (main).
set -euo pipefail

PG_USER="${VMSYSTEM_PG_USER:-vmsystem}"
PG_PASSWORD="${VMSYSTEM_PG_PASSWORD:-vmsystem}"
PG_DB="${VMSYSTEM_PG_DB:-vmsystem_test}"
PG_CLUSTER="${VMSYSTEM_PG_CLUSTER:-main}"

log() { echo "start-test-postgres: $*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        sudo -u postgres "$@"
    fi
}

server_version() {
    # Newest installed server major version (empty if no server is installed).
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$bin" ] && basename "$(dirname "$(dirname "$bin")")"
    return 0
}

VERSION="$(server_version)"
if [ -z "$VERSION" ] || ! command -v pg_ctlcluster >/dev/null 2>&1; then
    log "installing postgresql (apt-get)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    VERSION="$(server_version)"
fi
[ -n "$VERSION" ] || { log "no PostgreSQL server found after installing"; exit 1; }

if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$VERSION $PG_CLUSTER"; then
    log "creating cluster $VERSION/$PG_CLUSTER"
    as_root pg_createcluster "$VERSION" "$PG_CLUSTER" >&2
fi

if ! pg_lsclusters -h | awk -v v="$VERSION" -v c="$PG_CLUSTER" '$1==v && $2==c {print $4}' \
        | grep -q online; then
    log "starting cluster $VERSION/$PG_CLUSTER"
    as_root pg_ctlcluster "$VERSION" "$PG_CLUSTER" start >&2
fi

PORT=$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$PG_CLUSTER" '$1==v && $2==c {print $3}')
for _ in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p "$PORT" && break
    sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$PORT" || { log "server on port $PORT is not ready"; exit 1; }

psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PORT" -d postgres "$@"; }

if [ "$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER'")" != "1" ]; then
    log "creating role $PG_USER"
    psql_admin -c "CREATE ROLE \"$PG_USER\" LOGIN CREATEDB PASSWORD '$PG_PASSWORD'" >&2
else
    psql_admin -c "ALTER ROLE \"$PG_USER\" LOGIN CREATEDB PASSWORD '$PG_PASSWORD'" >&2
fi
if [ "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" != "1" ]; then
    log "creating database $PG_DB"
    psql_admin -c "CREATE DATABASE \"$PG_DB\" OWNER \"$PG_USER\"" >&2
fi

echo "postgresql+psycopg://$PG_USER:$PG_PASSWORD@127.0.0.1:$PORT/$PG_DB"
