# Shared by the HTTP benchmarks that run against the release demo on PostgreSQL (sourced, not
# run, after scripts/pg-env.sh): creates a database of its own on DATABASE_URL's server, starts
# the demo (target/release/prismiq-demo, built by the caller) on it on a free port, waits until
# it is ready, and on exit stops it, drops the database and stops a throwaway cluster.
#
#     source scripts/pg-env.sh
#     source scripts/bench-pg-demo.sh
#     prismiq_bench_pg_demo NAME
#
# Sets WORK (a scratch directory), DB, BENCH_URL (the database's URL), DEMO_PID, PORT and BASE
# (http://127.0.0.1:PORT/api/prismiq). The caller defines `log` and `die`; PORT may be preset.

prismiq_bench_pg_demo() {
    local name=$1
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/prismiq-$name.XXXXXX")
    DB="prismiq_${name}_$(date +%s)_$$"
    DEMO_PID=""
    trap prismiq_bench_pg_demo_stop EXIT

    local base=${DATABASE_URL%%\?*}
    local query=${DATABASE_URL#"$base"}
    BENCH_URL="${base%/*}/$DB$query"
    psql "$DATABASE_URL" -Xq -c "create database \"$DB\"" >/dev/null
    log "database $DB on ${base%/*}"

    PORT=${PORT:-$((20000 + RANDOM % 30000))}
    while (: <"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do PORT=$((PORT + 1)); done
    BASE="http://127.0.0.1:$PORT/api/prismiq"
    log "starting the demo (release) on port $PORT"
    DATABASE_URL="$BENCH_URL" PORT="$PORT" RUST_LOG=warn target/release/prismiq-demo \
        >"$WORK/demo.log" 2>&1 &
    DEMO_PID=$!
    for _ in $(seq 1 240); do
        curl -sf "$BASE/health/ready" >/dev/null 2>&1 && break
        kill -0 "$DEMO_PID" 2>/dev/null || { cat "$WORK/demo.log" >&2; die "the demo exited"; }
        sleep 0.25
    done
    curl -sf "$BASE/health/ready" >/dev/null || { cat "$WORK/demo.log" >&2; die "the demo is not ready"; }
}

prismiq_bench_pg_demo_stop() {
    if [ -n "${DEMO_PID:-}" ]; then
        kill "$DEMO_PID" 2>/dev/null || true
        wait "$DEMO_PID" 2>/dev/null || true
    fi
    psql "$DATABASE_URL" -Xq -c "drop database if exists \"$DB\" with (force)" >/dev/null 2>&1 || true
    rm -rf "$WORK"
    prismiq_pg_stop
}
