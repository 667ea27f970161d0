#!/usr/bin/env bash
# Makes a PostgreSQL server available to the tests and exports DATABASE_URL: an admin URL of a
# server where the tests may CREATE DATABASE.
#
#     source scripts/pg-env.sh            # then: cargo test ...
#     scripts/pg-env.sh cargo test ...    # or run one command with it
#
# In order:
#   1. DATABASE_URL already set: it is used as it is.
#   2. A server on 127.0.0.1:5432 that lets user postgres in:
#      postgres://postgres@127.0.0.1:5432/postgres
#      (skipped when PRISMIQ_PG_SKIP_LOCAL=1).
#   3. PostgreSQL server binaries installed (/usr/lib/postgresql/*/bin, or initdb and pg_ctl on
#      PATH, or the directory in PRISMIQ_PG_BIN): a throwaway cluster in a temporary directory,
#      on a free port of 127.0.0.1. As root it runs as the unprivileged user `postgres` (or
#      `nobody`), since PostgreSQL refuses to run as root. `prismiq_pg_stop` stops it and
#      removes its directory; when sourced by a shell without an EXIT trap it is registered as
#      one, and when run with a command it is called once the command ends.
#   4. Otherwise: instructions on stderr, and a non-zero status.

_prismiq_pg_log() {
    printf 'pg-env: %s\n' "$*" >&2
}

# Whether something accepts TCP connections on 127.0.0.1:$1.
_prismiq_pg_port_busy() {
    (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Whether the server at URL $1 lets us in (or, without psql, at least answers).
_prismiq_pg_usable() {
    if command -v psql >/dev/null 2>&1; then
        psql "$1" -XAtqc 'select 1' >/dev/null 2>&1
    elif command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -d "$1"
    else
        _prismiq_pg_port_busy "$(printf '%s' "$1" | sed -E 's|.*:([0-9]+)/.*|\1|')"
    fi
}

# The directory with initdb and pg_ctl, newest version first.
_prismiq_pg_bindir() {
    local dir
    if [ -n "${PRISMIQ_PG_BIN:-}" ]; then
        if [ -x "$PRISMIQ_PG_BIN/initdb" ] && [ -x "$PRISMIQ_PG_BIN/pg_ctl" ]; then
            printf '%s\n' "$PRISMIQ_PG_BIN"
            return 0
        fi
        _prismiq_pg_log "PRISMIQ_PG_BIN=$PRISMIQ_PG_BIN has no initdb and pg_ctl"
        return 1
    fi
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -rn); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            printf '%s\n' "$dir"
            return 0
        fi
    done
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return 0
    fi
    return 1
}

# Runs a command as the cluster's owner: ourselves, or an unprivileged user when we are root.
_prismiq_pg_as_owner() {
    if [ -z "${PRISMIQ_PG_OWNER:-}" ]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u "$PRISMIQ_PG_OWNER" -- "$@"
    else
        su -s /bin/sh "$PRISMIQ_PG_OWNER" -c "$(printf '%q ' "$@")"
    fi
}

# Stops the throwaway cluster started by this script, if any, and removes its directory.
prismiq_pg_stop() {
    if [ -n "${PRISMIQ_PG_DIR:-}" ] && [ -d "$PRISMIQ_PG_DIR" ]; then
        _prismiq_pg_as_owner "$PRISMIQ_PG_BINDIR/pg_ctl" -D "$PRISMIQ_PG_DIR/data" \
            -m immediate -w stop >/dev/null 2>&1 || true
        rm -rf "$PRISMIQ_PG_DIR"
        _prismiq_pg_log "stopped the throwaway cluster"
        if [ "${DATABASE_URL:-}" = "${PRISMIQ_PG_URL:-}" ]; then
            unset DATABASE_URL
        fi
    fi
    unset PRISMIQ_PG_DIR PRISMIQ_PG_BINDIR PRISMIQ_PG_OWNER PRISMIQ_PG_URL
}

# Starts a throwaway cluster with the binaries in $1 and exports DATABASE_URL.
_prismiq_pg_start() {
    local bindir="$1" dir port tries owner=""
    if [ "$(id -u)" = 0 ]; then
        if id postgres >/dev/null 2>&1; then
            owner=postgres
        else
            owner=nobody
        fi
    fi
    dir="$(mktemp -d "${TMPDIR:-/tmp}/prismiq-pg.XXXXXX")" || return 1
    export PRISMIQ_PG_DIR="$dir" PRISMIQ_PG_BINDIR="$bindir" PRISMIQ_PG_OWNER="$owner"
    if [ -n "$owner" ]; then
        chown "$owner" "$dir" || { prismiq_pg_stop; return 1; }
    fi
    port=$((20000 + RANDOM % 30000))
    tries=0
    while _prismiq_pg_port_busy "$port"; do
        port=$((port + 1))
        tries=$((tries + 1))
        if [ "$tries" -gt 200 ]; then
            _prismiq_pg_log "found no free port for the throwaway cluster"
            prismiq_pg_stop
            return 1
        fi
    done
    _prismiq_pg_log "starting a throwaway cluster (${bindir%/bin}) in $dir on port $port${owner:+ as $owner}"
    if ! _prismiq_pg_as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust \
        --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1; then
        _prismiq_pg_log "initdb failed:"
        cat "$dir/initdb.log" >&2
        prismiq_pg_stop
        return 1
    fi
    # A throwaway cluster needs no durability: fsync and friends off make the tests faster.
    if ! _prismiq_pg_as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null 2>&1; then
        _prismiq_pg_log "the throwaway cluster did not start:"
        cat "$dir/server.log" >&2
        prismiq_pg_stop
        return 1
    fi
    export PRISMIQ_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
    tries=0
    until _prismiq_pg_usable "$PRISMIQ_PG_URL"; do
        tries=$((tries + 1))
        if [ "$tries" -gt 60 ]; then
            _prismiq_pg_log "the throwaway cluster does not answer"
            prismiq_pg_stop
            return 1
        fi
        sleep 0.5
    done
    export DATABASE_URL="$PRISMIQ_PG_URL"
}

prismiq_pg_env() {
    local local_url="postgres://postgres@127.0.0.1:5432/postgres" bindir
    if [ -n "${DATABASE_URL:-}" ]; then
        _prismiq_pg_log "using DATABASE_URL from the environment"
        return 0
    fi
    if [ "${PRISMIQ_PG_SKIP_LOCAL:-0}" != 1 ] && _prismiq_pg_port_busy 5432; then
        if _prismiq_pg_usable "$local_url"; then
            export DATABASE_URL="$local_url"
            _prismiq_pg_log "using the local server: $DATABASE_URL"
            return 0
        fi
        _prismiq_pg_log "a server listens on 127.0.0.1:5432 but does not let user postgres in"
    fi
    if bindir="$(_prismiq_pg_bindir)"; then
        _prismiq_pg_start "$bindir" || return 1
        _prismiq_pg_log "DATABASE_URL=$DATABASE_URL (call prismiq_pg_stop to stop it)"
        if [ -z "$(trap -p EXIT)" ]; then
            trap prismiq_pg_stop EXIT
        fi
        return 0
    fi
    cat >&2 <<'EOF'
pg-env: no PostgreSQL server found, and no PostgreSQL server binaries to start one.

The PostgreSQL store tests need a server where they may CREATE DATABASE. Either
  - point DATABASE_URL at one:
        export DATABASE_URL=postgres://USER:PASSWORD@HOST:PORT/postgres
  - run one on 127.0.0.1:5432 that lets user postgres in, or
  - install the server binaries, and this script starts a throwaway cluster:
        apt-get install postgresql        (Debian/Ubuntu)
        brew install postgresql@15        (macOS; binaries on PATH)
EOF
    return 1
}

if (return 0 2>/dev/null); then
    # Sourced: set up the caller's shell.
    prismiq_pg_env
else
    # Run: set up, run the given command, stop what was started.
    if [ "$#" -eq 0 ]; then
        echo "usage: source scripts/pg-env.sh | scripts/pg-env.sh COMMAND [ARGS...]" >&2
        exit 2
    fi
    prismiq_pg_env || exit 1
    trap - EXIT
    status=0
    "$@" || status=$?
    prismiq_pg_stop
    exit "$status"
fi
