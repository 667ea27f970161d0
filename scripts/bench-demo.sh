# Shared by the HTTP benchmarks that run against the release demo on SQLite (sourced, not run):
# builds the binaries unless SKIP_BUILD=1, starts the demo in a throwaway data directory on a
# free port with the given environment, waits until it is ready, and stops it on exit.
#
#     source scripts/bench-demo.sh
#     prismiq_bench_demo NAME [VAR=value ...]
#
# Sets DEMO, LOAD (the http-load binary), WORK (the data directory), ROOT
# (http://127.0.0.1:PORT) and BASE ($ROOT/api/prismiq). The caller defines `log` and `die`.

prismiq_bench_demo() {
    local name=$1
    shift
    for tool in curl python3; do
        command -v "$tool" >/dev/null 2>&1 || die "needs $tool"
    done
    if [ "${SKIP_BUILD:-0}" != 1 ]; then
        log "building release binaries (prismiq-demo, http-load)"
        cargo build --release -p prismiq-demo -p http-load
    fi
    DEMO=target/release/prismiq-demo
    LOAD=target/release/http-load
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/prismiq-$name.XXXXXX")
    PRISMIQ_BENCH_DEMO_PID=""
    trap prismiq_bench_demo_stop EXIT

    log "starting the demo on SQLite${*:+ ($*)}"
    local port=$((20000 + RANDOM % 30000))
    while (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
    env -u DATABASE_URL PRISMIQ_DATA_DIR="$WORK" PORT="$port" RUST_LOG=warn "$@" "$DEMO" \
        >"$WORK/demo.log" 2>&1 &
    PRISMIQ_BENCH_DEMO_PID=$!
    ROOT="http://127.0.0.1:$port"
    BASE="$ROOT/api/prismiq"
    for _ in $(seq 1 240); do
        curl -sf "$BASE/health/ready" >/dev/null 2>&1 && break
        sleep 0.25
    done
    curl -sf "$BASE/health/ready" >/dev/null || { cat "$WORK/demo.log" >&2; die "the demo did not start"; }
}

prismiq_bench_demo_stop() {
    if [ -n "${PRISMIQ_BENCH_DEMO_PID:-}" ]; then
        kill "$PRISMIQ_BENCH_DEMO_PID" 2>/dev/null || true
        wait "$PRISMIQ_BENCH_DEMO_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
