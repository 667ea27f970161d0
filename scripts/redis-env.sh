#!/usr/bin/env bash
# Makes a Redis server available to the tests and exports REDIS_URL. Meant to be sourced.
#   1. REDIS_URL already set: used as it is.
#   2. A server answering on 127.0.0.1:6379: redis://127.0.0.1:6379.
#   3. redis-server installed: a throwaway server on a free port, without persistence,
#      stopped when the shell exits (prismiq_redis_stop).
#   4. Otherwise: instructions on stderr and a non-zero status.

_prismiq_redis_log() { printf 'redis-env: %s\n' "$*" >&2; }

_prismiq_redis_answers() { # host port
    if command -v redis-cli >/dev/null 2>&1; then
        [ "$(redis-cli -h "$1" -p "$2" ping 2>/dev/null)" = "PONG" ]
    else
        (: <"/dev/tcp/$1/$2") 2>/dev/null
    fi
}

prismiq_redis_stop() {
    if [ -n "${PRISMIQ_REDIS_PID:-}" ]; then
        kill "$PRISMIQ_REDIS_PID" 2>/dev/null || true
        unset PRISMIQ_REDIS_PID
    fi
}

_prismiq_redis_main() {
    if [ -n "${REDIS_URL:-}" ]; then
        _prismiq_redis_log "using REDIS_URL=$REDIS_URL"
        return 0
    fi
    if _prismiq_redis_answers 127.0.0.1 6379; then
        export REDIS_URL=redis://127.0.0.1:6379
        _prismiq_redis_log "using the local server: $REDIS_URL"
        return 0
    fi
    if command -v redis-server >/dev/null 2>&1; then
        local port
        for port in $(seq 16379 16479); do
            (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
        done
        redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no >/dev/null 2>&1 &
        PRISMIQ_REDIS_PID=$!
        export PRISMIQ_REDIS_PID
        local _
        for _ in $(seq 1 50); do
            if _prismiq_redis_answers 127.0.0.1 "$port"; then
                export REDIS_URL="redis://127.0.0.1:$port"
                _prismiq_redis_log "started a throwaway server: $REDIS_URL"
                return 0
            fi
            sleep 0.1
        done
        _prismiq_redis_log "redis-server did not start on port $port"
        prismiq_redis_stop
        return 1
    fi
    cat >&2 <<'MSG'
redis-env: no Redis server found, and redis-server is not installed.
The result-cache tests need one. Either set REDIS_URL (e.g. redis://127.0.0.1:6379),
start a server on 127.0.0.1:6379, or install Redis (Debian: apt-get install redis-server).
MSG
    return 1
}

_prismiq_redis_main
