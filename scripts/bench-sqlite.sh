#!/usr/bin/env bash
# Benchmarks the SQLite mode of the demo against SQLite alone, both through sqlx-sqlite:
#
#   query      POST /query/execute with the result cache off (PRISMIQ_CACHE=off), against
#              sql-load running the same compiled statement with the same values on the read-only
#              connections SqliteDataSource opens (tools/sql-load --read-only);
#   dashboard  GET /dashboards/{id} of the demo's "Sales overview" (7 widgets), against sql-load
#              replaying the statements SqliteStore sends for it
#              (tools/store-sql/sqlite_get_dashboard.sql, made from the store's constants), reading
#              the one row as the store does (sql-load --first-row).
#
#     scripts/bench-sqlite.sh
#     CONNECTIONS=16 DURATION=20 scripts/bench-sqlite.sh
#
# The two sides of each comparison run in turns, ROUNDS times, so that neither gets the quieter
# moments of the machine; each round's ratio is printed, and the median of the rounds.
#
# Settings (environment): CONNECTIONS (8), DURATION seconds per run (10), WARMUP seconds (2),
# ROUNDS (3), SKIP_BUILD=1 to use the binaries already in target/release.
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-8}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
ROUNDS=${ROUNDS:-3}
TENANT=demo

log() { printf 'bench-sqlite: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

for tool in curl python3; do
    command -v "$tool" >/dev/null 2>&1 || die "needs $tool"
done
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    log "building release binaries (prismiq-demo, http-load, sql-load)"
    cargo build --release -p prismiq-demo -p http-load -p sql-load
fi
DEMO=target/release/prismiq-demo
LOAD=target/release/http-load
SQL_LOAD=target/release/sql-load

WORK=$(mktemp -d "${TMPDIR:-/tmp}/prismiq-bench-sqlite.XXXXXX")
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

port_busy() { (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=$((20000 + RANDOM % 30000))
while port_busy "$port"; do port=$((port + 1)); done
log "starting the demo on SQLite with the result cache off (it loads the sample dataset)"
env -u DATABASE_URL PRISMIQ_DATA_DIR="$WORK" PORT="$port" PRISMIQ_CACHE=off RUST_LOG=warn "$DEMO" \
    >"$WORK/demo.log" 2>&1 &
PIDS+=($!)
BASE="http://127.0.0.1:$port/api/prismiq"
for _ in $(seq 1 240); do
    curl -sf "$BASE/health/ready" >/dev/null 2>&1 && break
    sleep 0.25
done
curl -sf "$BASE/health/ready" >/dev/null || { cat "$WORK/demo.log" >&2; die "the demo did not start"; }
DB="sqlite://$WORK/prismiq-demo.db"

QUERY='{"tables":[{"id":"o","name":"orders"},{"id":"c","name":"customers"}],"joins":[{"from_table_id":"o","from_column":"customer_id","to_table_id":"c","to_column":"id"}],"columns":[{"table_id":"c","column":"region"},{"table_id":"o","column":"total_amount","aggregation":"sum","alias":"revenue"}],"filters":[{"table_id":"o","column":"status","operator":"eq","value":"completed"}],"order_by":[{"table_id":"c","column":"region"}]}'
printf '{"query":%s}' "$QUERY" >"$WORK/execute.json"

# The compiled statement (/query/sql shows it without the row cap, which execution adds as
# LIMIT max_rows + 1 = 10001); its parameter is the status.
sql=$(curl -sf -X POST -H "X-Tenant-ID: $TENANT" -H 'Content-Type: application/json' \
    -d "$QUERY" "$BASE/query/sql" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sql"])')
[ "$(grep -o '?' <<<"$sql" | wc -l)" = 1 ] || die "unexpected SQL: $sql"
printf '%s LIMIT :row_cap\n' "${sql/\?/:status}" >"$WORK/execute.sql"

dashboard=$(curl -sf -H "X-Tenant-ID: $TENANT" "$BASE/dashboards" |
    python3 -c 'import json,sys; print([d["id"] for d in json.load(sys.stdin)["dashboards"] if d["name"] == "Sales overview"][0])')

field() { sed -nE "s/.*(^| )$1=([^ ]+).*/\\2/p" <<<"$2"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# compare NAME HTTP_CMD... -- SQL_CMD...: runs both sides ROUNDS times in turns; prints the
# rounds and a table row for the median round.
compare() {
    local name=$1; shift
    local http=() sqlc=()
    while [ "$1" != -- ]; do http+=("$1"); shift; done
    shift
    sqlc=("$@")
    local ratios=() lines=() h d
    for round in $(seq 1 "$ROUNDS"); do
        log "$name, round $round/$ROUNDS: HTTP ($CONNECTIONS connections, ${DURATION}s)"
        h=$("${http[@]}")
        log "$name, round $round/$ROUNDS: sql-load of the same statements"
        d=$("${sqlc[@]}")
        ratios+=("$(awk -v a="$(field rps "$h")" -v b="$(field rps "$d")" 'BEGIN { printf "%.2f", a / b }')")
        lines+=("$h|$d")
    done
    local m
    m=$(median "${ratios[@]}")
    printf '%s rounds (HTTP req/s / SQLite alone tx/s = ratio):' "$name"
    for round in $(seq 1 "$ROUNDS"); do
        IFS='|' read -r h d <<<"${lines[round - 1]}"
        printf ' %s/%s=%s' "$(field rps "$h")" "$(field rps "$d")" "${ratios[round - 1]}"
    done
    printf '\n'
    for round in $(seq 1 "$ROUNDS"); do
        if [ "${ratios[round - 1]}" = "$m" ]; then
            IFS='|' read -r h d <<<"${lines[round - 1]}"
            ROWS+=("$(printf '| %-44s | %9s | %8s | %8s | %s |' "$name: SQLite alone (sql-load)" "$(field rps "$d")" "$(field p50_ms "$d")" "$(field p99_ms "$d")" "1.00")")
            ROWS+=("$(printf '| %-44s | %9s | %8s | %8s | %s |' "$name: HTTP" "$(field rps "$h")" "$(field p50_ms "$h")" "$(field p99_ms "$h")" "$m x SQLite alone (median round)")")
            break
        fi
    done
}

ROWS=()
compare "POST /query/execute, cache off" \
    "$LOAD" -c "$CONNECTIONS" -d "$DURATION" --warmup "$WARMUP" -X POST \
    -H "X-Tenant-ID: $TENANT" -H 'Content-Type: application/json' \
    --body-file "$WORK/execute.json" "$BASE/query/execute" -- \
    "$SQL_LOAD" --read-only -c "$CONNECTIONS" -d "$DURATION" --warmup "$WARMUP" \
    -f "$WORK/execute.sql" -D status:text=completed -D row_cap:int=10001 "$DB"
compare "GET /dashboards/{id}" \
    "$LOAD" -c "$CONNECTIONS" -d "$DURATION" --warmup "$WARMUP" \
    -H "X-Tenant-ID: $TENANT" "$BASE/dashboards/$dashboard" -- \
    "$SQL_LOAD" --first-row -c "$CONNECTIONS" -d "$DURATION" --warmup "$WARMUP" \
    -f tools/store-sql/sqlite_get_dashboard.sql \
    -D tenant:text="$TENANT" -D dashboard:text="$dashboard" "$DB"

printf '\n%s connections, %ss per run (after %ss of warm-up), %s rounds, %s cores, %s\n\n' \
    "$CONNECTIONS" "$DURATION" "$WARMUP" "$ROUNDS" "$(nproc)" "$(date -u +%Y-%m-%d)"
printf '| %-44s | %9s | %8s | %8s | %s |\n' run "req/s" "p50 ms" "p99 ms" ratio
printf '|%s|---:|---:|---:|---:|\n' "----------------------------------------------"
printf '%s\n' "${ROWS[@]}"
