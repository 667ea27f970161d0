#!/usr/bin/env bash
# The load run of live events (server-sent events, `GET /api/prismiq/events`) on the demo in
# release mode, with `event-load` (tools/event-load) as the client. Run by hand; not part of
# the tests.
#
#   1. Memory: TENANTS × USERS subscribers (one connection each, users u0.. of tenants
#      load-t0..) on ONE instance; resident memory per idle subscriber = (VmRSS of the demo
#      with all connected and idle − VmRSS before connecting) / subscribers.
#   2. Fan-out, on the same connections: ROUNDS rounds, each changing one public dashboard in
#      every tenant at the same moment (PATCH, `dashboard.updated`); per subscriber and change,
#      the time to the last byte of the event, from the request sent (an upper bound of the
#      time from the commit) and from the response received (close to the commit).
#   1 and 2 run once per bus in SINGLE_BUSES, each on a fresh demo process.
#   3. Cross-instance: two demos A and B on one PostgreSQL database, CROSS_TENANTS ×
#      CROSS_USERS subscribers on B, CHANGES changes made on A one after another (tenants in
#      turn, one every INTERVAL_MS); per event and subscriber, the time from the write's
#      response on A to its receipt on B. Once per bus in CROSS_BUSES (postgres: LISTEN/NOTIFY;
#      redis: Redis pub/sub, the database still PostgreSQL so both see the same dashboards).
#
#     scripts/bench-events.sh
#     USERS=500 ROUNDS=3 SINGLE_BUSES=memory CROSS_BUSES=redis scripts/bench-events.sh
#
# PostgreSQL comes from scripts/pg-env.sh (the script creates a database of its own there and
# drops it at the end), Redis from scripts/redis-env.sh. Everything runs on this machine:
# client and servers share its cores, so every latency includes the client's CPU time too.
#
# Settings (environment): TENANTS (4), USERS per tenant (2500), ROUNDS (5), PAUSE_MS between
# rounds (1000), SINGLE_BUSES ("postgres memory"), CROSS_TENANTS (4), CROSS_USERS (250),
# CHANGES (200), INTERVAL_MS (50), CROSS_BUSES ("postgres redis"), CONNECT_RATE subscriptions
# opened per second (2000), SETTLE_MS idle time before reading memory (3000), THREADS of the
# client's readers (1), SKIP_BUILD=1 to use the binaries in target/release.
set -euo pipefail
cd "$(dirname "$0")/.."

TENANTS=${TENANTS:-4}
USERS=${USERS:-2500}
ROUNDS=${ROUNDS:-5}
PAUSE_MS=${PAUSE_MS:-1000}
SINGLE_BUSES=${SINGLE_BUSES:-postgres memory}
CROSS_TENANTS=${CROSS_TENANTS:-4}
CROSS_USERS=${CROSS_USERS:-250}
CHANGES=${CHANGES:-200}
INTERVAL_MS=${INTERVAL_MS:-50}
CROSS_BUSES=${CROSS_BUSES:-postgres redis}
CONNECT_RATE=${CONNECT_RATE:-2000}
SETTLE_MS=${SETTLE_MS:-3000}
THREADS=${THREADS:-1}
WRITER=load-writer

log() { printf 'bench-events: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

for tool in curl psql python3; do
    command -v "$tool" >/dev/null 2>&1 || die "needs $tool (apt-get install curl postgresql-client)"
done

SUBSCRIBERS=$((TENANTS * USERS))
CROSS_SUBSCRIBERS=$((CROSS_TENANTS * CROSS_USERS))
MOST=$((SUBSCRIBERS > CROSS_SUBSCRIBERS ? SUBSCRIBERS : CROSS_SUBSCRIBERS))

# File descriptors: the demo holds one per subscriber, and so does the client; both inherit
# this shell's limit, raised here to the hard limit.
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ]; then
    ulimit -n "$hard"
    [ "$hard" -ge $((MOST + 1000)) ] ||
        die "$MOST subscribers need about $((MOST + 1000)) file descriptors per process; ulimit -Hn is $hard"
fi
log "file descriptors: ulimit -n $(ulimit -n) (hard $hard)"

# Ephemeral ports: every subscription takes one local port towards the demo's one address and
# port. When the range is too small, subscriptions are spread over several local addresses
# (127.0.0.2, 127.0.0.3, …: the whole of 127.0.0.0/8 is loopback).
read -r port_low port_high </proc/sys/net/ipv4/ip_local_port_range
ports=$((port_high - port_low + 1))
SOURCES=""
if [ "$MOST" -gt $((ports * 3 / 4)) ]; then
    n=$(((MOST + ports / 2 - 1) / (ports / 2)))
    SOURCES=$(seq 2 $((n + 1)) | sed 's/^/127.0.0./' | paste -sd, -)
    log "$ports ephemeral ports ($port_low-$port_high) for $MOST subscriptions: binding them to $SOURCES"
fi

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    log "building release binaries (prismiq-demo, event-load)"
    cargo build --release -p prismiq-demo -p event-load -p sse-baseline
fi
DEMO=target/release/prismiq-demo
LOAD=target/release/event-load

# shellcheck source=scripts/pg-env.sh
source scripts/pg-env.sh
if [[ " $CROSS_BUSES " == *" redis "* ]]; then
    # shellcheck source=scripts/redis-env.sh
    source scripts/redis-env.sh
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/prismiq-bench-events.XXXXXX")
DB="prismiq_events_$(date +%s)_$$"
DEMO_PIDS=()
cleanup() {
    local pid
    for pid in "${DEMO_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    psql "$DATABASE_URL" -Xq -c "drop database if exists \"$DB\" with (force)" >/dev/null 2>&1 || true
    rm -rf "$WORK"
    if declare -F prismiq_redis_stop >/dev/null; then prismiq_redis_stop; fi
    prismiq_pg_stop
}
trap cleanup EXIT

base=${DATABASE_URL%%\?*}
query=${DATABASE_URL#"$base"}
BENCH_URL="${base%/*}/$DB$query"
psql "$DATABASE_URL" -Xq -c "create database \"$DB\"" >/dev/null
log "database $DB on ${base%/*}"

port_busy() { (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# A port below the ephemeral range: one inside it may be held as the local end of one of the
# thousands of client connections (bind then fails with "Address already in use").
free_port() {
    local low=10000 high=$((port_low - 1))
    [ "$high" -gt "$low" ] || die "no room for a listening port below the ephemeral range $port_low-$port_high"
    local port=$((low + RANDOM % (high - low)))
    while port_busy "$port"; do port=$((port + 1)); done
    printf '%s\n' "$port"
}

# start_demo NAME BUS PORT: starts a demo on the benchmark database and waits until it is
# ready; its pid is left in DEMO_PID.
start_demo() {
    local name=$1 bus=$2 port=$3 per_tenant=$((USERS > 10000 ? USERS : 10000))
    log "starting demo $name (PRISMIQ_EVENT_BUS=$bus) on port $port"
    DATABASE_URL="$BENCH_URL" PORT="$port" PRISMIQ_EVENT_BUS="$bus" REDIS_URL="${REDIS_URL:-}" \
        PRISMIQ_ADMIN_USERS="$WRITER" PRISMIQ_CACHE=off \
        PRISMIQ_EVENT_CONNECTIONS_PER_TENANT="$per_tenant" RUST_LOG=warn \
        "$DEMO" >"$WORK/demo-$name.log" 2>&1 &
    DEMO_PID=$!
    DEMO_PIDS+=("$DEMO_PID")
    for _ in $(seq 1 240); do
        curl -sf "http://127.0.0.1:$port/api/prismiq/health/ready" >/dev/null 2>&1 && return 0
        kill -0 "$DEMO_PID" 2>/dev/null || { cat "$WORK/demo-$name.log" >&2; die "demo $name exited"; }
        sleep 0.25
    done
    cat "$WORK/demo-$name.log" >&2
    die "demo $name is not ready"
}

stop_demos() {
    local pid
    for pid in "${DEMO_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    DEMO_PIDS=()
}

# load NAME ARGS...: runs event-load, shows its output, keeps it in $WORK/NAME.out and the
# command line in COMMANDS.
COMMANDS=()
load() {
    local name=$1 status=0
    shift
    local command=("$LOAD" --threads "$THREADS" --connect-rate "$CONNECT_RATE" \
        --settle-ms "$SETTLE_MS" --writer "$WRITER" ${SOURCES:+--source-addrs "$SOURCES"} "$@")
    local line
    printf -v line '%q ' "${command[@]}"
    COMMANDS+=("$name: ${line% }")
    log "$name: ${line% }"
    "${command[@]}" | tee "$WORK/$name.out" || status=$?
    [ "$status" = 0 ] || log "$name: event-load exited with $status (see above)"
    grep -q '^result:' "$WORK/$name.out" || die "$name: event-load measured nothing"
}

field() { sed -nE "s/.*(^| )$1=([^ ]+).*/\\2/p" "$WORK/$2.out" | tail -n1; }

# --- 0: the HTTP stack alone --------------------------------------------------------------------
# What an idle SSE connection costs on this stack with no Prismiq behind the route
# (tools/sse-baseline): the floor of measurement 1.

port=$(free_port)
PORT=$port target/release/sse-baseline >"$WORK/baseline.log" 2>&1 &
BASELINE_PID=$!
DEMO_PIDS+=("$BASELINE_PID")
for _ in $(seq 1 40); do port_busy "$port" && break; sleep 0.25; done
BASELINE_COMMAND="python3 (open $SUBSCRIBERS connections to GET /api/prismiq/events of target/release/sse-baseline, read VmRSS)"
log "baseline: $BASELINE_COMMAND"
BASELINE=$(python3 - "$BASELINE_PID" "$port" "$SUBSCRIBERS" "$SETTLE_MS" <<'PY'
import socket, sys, time
pid, port, count, settle_ms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def rss():
    with open(f"/proc/{pid}/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmRSS:"))
before = rss()
sockets = []
for i in range(count):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /api/prismiq/events HTTP/1.1\r\nHost: localhost\r\n\r\n")
    sockets.append(s)
    if i % 500 == 499:
        time.sleep(0.1)
for s in sockets:
    s.settimeout(10)
    if not s.recv(4096).startswith(b"HTTP/1.1 200"):
        sys.exit("baseline: a connection was refused")
time.sleep(settle_ms / 1000)
idle = rss()
print(f"{(idle - before) / count:.2f} {before} {idle}")
PY
)
stop_demos
read -r BASELINE_KIB BASELINE_BEFORE BASELINE_IDLE <<<"$BASELINE"
log "baseline: $BASELINE_KIB KiB per idle connection"

# --- 1 and 2: one instance ---------------------------------------------------------------------

for bus in $SINGLE_BUSES; do
    port=$(free_port)
    start_demo "single-$bus" "$bus" "$port"
    load "single-$bus" --label "one instance, bus $bus" --tenants "$TENANTS" --users "$USERS" \
        --tenant-prefix "single-$bus-t" --schedule together --rounds "$ROUNDS" \
        --pause-ms "$PAUSE_MS" --server-pid "$DEMO_PID" "http://127.0.0.1:$port"
    stop_demos
done

# --- 3: two instances --------------------------------------------------------------------------

for bus in $CROSS_BUSES; do
    port_a=$(free_port)
    start_demo "cross-$bus-a" "$bus" "$port_a"
    port_b=$(free_port)
    start_demo "cross-$bus-b" "$bus" "$port_b"
    load "cross-$bus" --label "instance B, changes on A, bus $bus" --tenants "$CROSS_TENANTS" \
        --users "$CROSS_USERS" --tenant-prefix "cross-$bus-t" --schedule each \
        --changes "$CHANGES" --interval-ms "$INTERVAL_MS" --server-pid "$DEMO_PID" \
        --write-url "http://127.0.0.1:$port_a" "http://127.0.0.1:$port_b"
    stop_demos
done

# --- figures -----------------------------------------------------------------------------------

server=$(psql "$BENCH_URL" -XAtc "select current_setting('server_version')")
redis=""
if [ -n "${REDIS_URL:-}" ] && command -v redis-cli >/dev/null 2>&1; then
    redis=", Redis $(redis-cli -u "$REDIS_URL" info server 2>/dev/null | sed -nE 's/^redis_version:([^\r]*).*/\1/p')"
fi
printf '\nLive events: %s cores, PostgreSQL %s%s, %s\n' "$(nproc)" "$server" "$redis" "$(date -u +%Y-%m-%d)"
printf '\nThe HTTP stack alone (tools/sse-baseline): %s KiB per idle SSE connection (%s connections, VmRSS %s -> %s KiB)\n' \
    "$BASELINE_KIB" "$SUBSCRIBERS" "$BASELINE_BEFORE" "$BASELINE_IDLE"
for bus in $SINGLE_BUSES; do
    run=single-$bus
    printf '\nOne instance, bus %s: %s of %s subscribers connected (%s tenants × %s) in %s s\n' \
        "$bus" "$(field connected "$run")" "$SUBSCRIBERS" "$TENANTS" "$USERS" "$(field connect_s "$run")"
    printf '  memory per idle subscriber: %s KiB (VmRSS %s KiB before, %s KiB idle; %s KiB per subscriber after the changes)\n' \
        "$(field per_subscriber_kib "$run")" "$(field rss_before_kib "$run")" \
        "$(field rss_idle_kib "$run")" "$(field per_subscriber_after_kib "$run")"
    printf '  fan-out, %s rounds of one change in every tenant at once, %s deliveries (%s missing):\n' \
        "$ROUNDS" "$(field deliveries "$run")" "$(field missing "$run")"
    printf '    from the request sent:      p50 %s ms, p99 %s ms, max %s ms\n' \
        "$(field sent_p50_ms "$run")" "$(field sent_p99_ms "$run")" "$(field sent_max_ms "$run")"
    printf '    from the response received: p50 %s ms, p99 %s ms, max %s ms\n' \
        "$(field resp_p50_ms "$run")" "$(field resp_p99_ms "$run")" "$(field resp_max_ms "$run")"
done
for bus in $CROSS_BUSES; do
    run=cross-$bus
    printf '\nTwo instances, bus %s: %s subscribers on B, %s changes on A (one every %s ms), %s deliveries (%s missing):\n' \
        "$bus" "$(field connected "$run")" "$CHANGES" "$INTERVAL_MS" "$(field deliveries "$run")" \
        "$(field missing "$run")"
    printf '    from the response on A: p50 %s ms, p99 %s ms, max %s ms (from the request sent: p50 %s ms, p99 %s ms)\n' \
        "$(field resp_p50_ms "$run")" "$(field resp_p99_ms "$run")" "$(field resp_max_ms "$run")" \
        "$(field sent_p50_ms "$run")" "$(field sent_p99_ms "$run")"
done
printf '\nCommands:\n'
printf '  %s\n' "baseline: $BASELINE_COMMAND" "${COMMANDS[@]}"
