#!/usr/bin/env bash
# Benchmarks the demo host app on PostgreSQL over HTTP, and the same store statements on the
# database alone, for four operations:
#
#   get       GET /dashboards/{id}          one dashboard with 12 widgets
#   list      GET /dashboards               50 dashboards (LIST_WIDGETS widgets each)
#   layout    PUT /dashboards/{id}/layout   moves the 12 widgets
#   summaries GET /dashboards/summaries     the first page of 50 of a tenant with
#                                           SUMMARY_DASHBOARDS dashboards (2 widgets each),
#                                           the caller's default first
#   conditional GET /dashboards/{id}        with If-None-Match of its current version: 304
#   unversioned (database only)             the layout save's statements without recording a
#                                           version, to measure what a version costs
#
# For each: `http-load` (tools/http-load) against the demo in release mode; then the exact
# statements the store sends for that request (tools/store-sql/*.sql: BEGIN, the tenant setup
# statement, the statements, then ROLLBACK for a read or COMMIT for a write; prepared, as sqlx
# sends them) on the database alone, twice: with `pgbench`, and with `sql-load`
# (tools/sql-load), which replays them through sqlx and the pool of PostgresStore::connect,
# the way the store does. All with the same number of connections for the same time. Prints
# requests/s, p50 and p99 of each and the ratios HTTP / database-only.
#
#     scripts/bench-store.sh
#     CONNECTIONS=16 DURATION=20 scripts/bench-store.sh
#     PRISMIQ_PG_SKIP_LOCAL=1 scripts/bench-store.sh     # on a throwaway cluster of its own
#
# The server comes from scripts/pg-env.sh (DATABASE_URL, else 127.0.0.1:5432, else a throwaway
# cluster). The script creates a database of its own there and drops it at the end.
#
# The runs go in ROUNDS rounds (each round: every operation over HTTP, with pgbench, with
# sql-load), each run on freshly vacuumed and analysed tables, so that no side gets the quieter
# moments of the machine or another's dead rows; each operation's row is its round with the median
# HTTP/pgbench ratio, and every round's ratio is printed below the table.
#
# Settings (environment): CONNECTIONS (8), DURATION seconds per run (10), WARMUP seconds before
# each run (2), ROUNDS (3), LIST_WIDGETS widgets per listed dashboard (4), SUMMARY_DASHBOARDS
# (10000), PORT of the demo (a free one), OPS the operations to run ("get list layout
# summaries"), SKIP_BUILD=1 to use the binaries already in target/release.
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-8}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
ROUNDS=${ROUNDS:-3}
LIST_WIDGETS=${LIST_WIDGETS:-4}
SUMMARY_DASHBOARDS=${SUMMARY_DASHBOARDS:-10000}
OPS=${OPS:-get list layout summaries}
TENANT=bench
LIST_TENANT=bench-list
SUMMARY_TENANT=bench-summaries
USER_ID=bench-user

log() { printf 'bench-store: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

for tool in curl psql; do
    command -v "$tool" >/dev/null 2>&1 || die "needs $tool (apt-get install curl postgresql-client)"
done
PGBENCH=$(command -v pgbench 2>/dev/null ||
    ls -d /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | sort -t/ -k5 -rn | head -n1 || true)
if [ -z "$PGBENCH" ] || [ ! -x "$PGBENCH" ]; then
    die "needs pgbench (apt-get install postgresql-contrib, or postgresql)"
fi

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    log "building release binaries (prismiq-demo, http-load, sql-load)"
    cargo build --release -p prismiq-demo -p http-load -p sql-load
fi
LOAD=target/release/http-load
SQL_LOAD=target/release/sql-load

# shellcheck source=scripts/pg-env.sh
source scripts/pg-env.sh

# shellcheck source=scripts/bench-pg-demo.sh
source scripts/bench-pg-demo.sh
prismiq_bench_pg_demo bench

# --- seed ------------------------------------------------------------------------------------

UUID='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
QUERY='{"tables":[{"id":"t1","name":"orders"},{"id":"t2","name":"customers"}],"joins":[{"from_table_id":"t1","from_column":"customer_id","to_table_id":"t2","to_column":"id"}],"columns":[{"table_id":"t2","column":"region"},{"table_id":"t1","column":"total_amount","aggregation":"sum"}],"group_by":[{"table_id":"t2","column":"region"}]}'
TYPES=(metric bar_chart line_chart table pie_chart area_chart)

# widgets N: N widgets, three per row of a 12-column grid.
widgets() {
    local n=$1 i sep=""
    printf '['
    for ((i = 0; i < n; i++)); do
        printf '%s{"type":"%s","title":"Widget %d","query":%s,"position":{"x":%d,"y":%d,"w":4,"h":3},"config":{"x_axis":"region","y_axis":["total_amount"],"show_legend":true}}' \
            "$sep" "${TYPES[i % ${#TYPES[@]}]}" "$i" "$QUERY" $((i % 3 * 4)) $((i / 3 * 3))
        sep=,
    done
    printf ']'
}

# post TENANT NAME WIDGETS: creates a dashboard and prints its response.
post() {
    local status
    status=$(curl -s -o "$WORK/response.json" -w '%{http_code}' -X POST \
        -H "X-Tenant-ID: $1" -H "X-User-ID: $USER_ID" -H 'Content-Type: application/json' \
        -d "{\"name\":\"$2\",\"description\":\"Benchmark dashboard\",\"widgets\":$(widgets "$3")}" \
        "$BASE/dashboards")
    [ "$status" = 201 ] || { cat "$WORK/response.json" >&2; die "seeding: POST /dashboards gave $status"; }
    cat "$WORK/response.json"
}

log "seeding: one dashboard with 12 widgets; 50 dashboards with $LIST_WIDGETS widgets each"
ids=$(post "$TENANT" "Twelve widgets" 12 | grep -oE "\"id\":\"$UUID\"" | grep -oE "$UUID")
DASHBOARD=$(head -n1 <<<"$ids")
mapfile -t WIDGET_IDS < <(tail -n +2 <<<"$ids")
[ "${#WIDGET_IDS[@]}" = 12 ] || die "seeding: expected 12 widget ids, got ${#WIDGET_IDS[@]}"
for i in $(seq 1 50); do
    post "$LIST_TENANT" "Dashboard $i" "$LIST_WIDGETS" >/dev/null
done

# The summaries tenant: written directly (through HTTP it would take minutes), in the shape the
# store writes, one change a second apart; the user's default is one in the middle.
if [[ " $OPS " == *" summaries "* ]]; then
    log "seeding: $SUMMARY_DASHBOARDS dashboards with 2 widgets each for the summaries"
    psql "$BENCH_URL" -Xq -v ON_ERROR_STOP=1 >/dev/null <<SQL
insert into prismiq.dashboards (id, tenant_id, name, layout, owner_id, created_at, updated_at)
select gen_random_uuid(), '$SUMMARY_TENANT', 'Dashboard ' || i,
       '{"columns": 12, "row_height": 50, "margin": [10, 10], "compact_type": "vertical"}',
       '$USER_ID', now() - i * interval '1 second', now() - i * interval '1 second'
from generate_series(1, $SUMMARY_DASHBOARDS) i;
insert into prismiq.widgets (id, tenant_id, dashboard_id, widget_type, title, position, config)
select gen_random_uuid(), d.tenant_id, d.id, 'metric', 'Widget ' || k,
       jsonb_build_object('x', 0, 'y', k * 3, 'w', 4, 'h', 3), '{}'
from prismiq.dashboards d, generate_series(0, 1) k
where d.tenant_id = '$SUMMARY_TENANT';
insert into prismiq.dashboard_defaults (tenant_id, user_id, dashboard_id)
select tenant_id, '$USER_ID', id from prismiq.dashboards
where tenant_id = '$SUMMARY_TENANT' and name = 'Dashboard $((SUMMARY_DASHBOARDS / 2))';
SQL
fi

# The layout: every widget moves one row down. As an HTTP body, and as pgbench's arrays.
# (sql-load takes the ids comma-separated and the positions as a JSON array.)
layout_json="[" ids_array="{" positions_array="{" ids_list="" positions_json="[" sep=""
for i in "${!WIDGET_IDS[@]}"; do
    x=$((i % 3 * 4)) y=$((i / 3 * 3 + 1))
    position="{\"x\":$x,\"y\":$y,\"w\":4,\"h\":3}"
    layout_json+="$sep{\"widget_id\":\"${WIDGET_IDS[i]}\",\"position\":$position}"
    ids_array+="$sep${WIDGET_IDS[i]}"
    positions_array+="$sep\"{\\\"x\\\": $x, \\\"y\\\": $y, \\\"w\\\": 4, \\\"h\\\": 3}\""
    ids_list+="$sep${WIDGET_IDS[i]}"
    positions_json+="$sep$position"
    sep=,
done
printf '%s]' "$layout_json" >"$WORK/layout.json"
ids_array+="}" positions_array+="}" positions_json+="]"

# --- runs ------------------------------------------------------------------------------------

# http_run NAME METHOD PATH TENANT [BODY_FILE]: prints http-load's line.
http_run() {
    local args=(-c "$CONNECTIONS" -d "$DURATION" --warmup "$WARMUP" -X "$2"
        -H "X-Tenant-ID: $4" -H "X-User-ID: $USER_ID")
    [ -n "${5:-}" ] && args+=(--body-file "$5" -H 'Content-Type: application/json')
    settle
    log "$1: HTTP $2 $3 ($CONNECTIONS connections, ${DURATION}s)"
    "$LOAD" "${args[@]}" "$BASE$3"
}

# pgbench_run NAME SCRIPT VARIABLES...: prints "requests=… rps=… p50_ms=… p99_ms=…".
pgbench_run() {
    local name=$1 script=$2 defines=() var out tps failed
    shift 2
    for var in "$@"; do defines+=(-D "$var"); done
    settle
    log "$name: pgbench $(basename "$script") ($CONNECTIONS connections, ${DURATION}s)"
    "$PGBENCH" -n -M prepared -c "$CONNECTIONS" -j 1 -T "$WARMUP" -f "$script" "${defines[@]}" \
        "$BENCH_URL" >/dev/null 2>"$WORK/pgbench.err" || { cat "$WORK/pgbench.err" >&2; die "pgbench failed"; }
    rm -f "$WORK/pgb_$name".*
    out=$("$PGBENCH" -n -M prepared -c "$CONNECTIONS" -j 1 -T "$DURATION" -f "$script" \
        "${defines[@]}" -l --log-prefix="$WORK/pgb_$name" "$BENCH_URL" 2>"$WORK/pgbench.err") ||
        { cat "$WORK/pgbench.err" >&2; die "pgbench failed"; }
    failed=$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' <<<"$out")
    [ "${failed:-0}" = 0 ] || { echo "$out" >&2; die "pgbench: $failed failed transactions"; }
    tps=$(sed -nE 's/^tps = ([0-9.]+).*/\1/p' <<<"$out")
    # Each log line: client, transaction, latency (µs), script, epoch seconds, µs.
    cat "$WORK/pgb_$name".* | awk '{ print $3 }' | sort -n | awk -v tps="$tps" '
        { v[NR] = $1; sum += $1 }
        END {
            if (NR == 0) exit 1
            r50 = int(NR * 0.50); if (r50 < NR * 0.50) r50++; if (r50 < 1) r50 = 1
            r99 = int(NR * 0.99); if (r99 < NR * 0.99) r99++; if (r99 < 1) r99 = 1
            printf "requests=%d rps=%.1f mean_ms=%.3f p50_ms=%.3f p99_ms=%.3f\n",
                NR, tps, sum / NR / 1000, v[r50] / 1000, v[r99] / 1000
        }'
}

# sqlx_run NAME SCRIPT VARIABLES...: prints sql-load's line.
sqlx_run() {
    local name=$1 script=$2 defines=() var
    shift 2
    for var in "$@"; do defines+=(-D "$var"); done
    settle
    log "$name: sql-load $(basename "$script") ($CONNECTIONS connections, ${DURATION}s)"
    "$SQL_LOAD" -c "$CONNECTIONS" -d "$DURATION" --warmup "$WARMUP" -f "$script" \
        "${defines[@]}" "$BENCH_URL"
}

field() { sed -nE "s/.*(^| )$1=([^ ]+).*/\\2/p" <<<"$2"; }

# Every run starts on vacuumed, analysed tables (the layout runs leave dead rows behind), so
# that no run pays for an earlier one's garbage or meets an autovacuum.
settle() { psql "$BENCH_URL" -Xq -c "vacuum (analyze)" >/dev/null; }

declare -A HTTP DBONLY SQLX
for round in $(seq 1 "$ROUNDS"); do
for op in $OPS; do
    log "round $round/$ROUNDS"
    case $op in
        get)
            HTTP[get.$round]=$(http_run get GET "/dashboards/$DASHBOARD" "$TENANT")
            DBONLY[get.$round]=$(pgbench_run get tools/store-sql/get_dashboard.sql \
                "tenant=$TENANT" "dashboard=$DASHBOARD")
            SQLX[get.$round]=$(sqlx_run get tools/store-sql/get_dashboard.sql \
                "tenant:text=$TENANT" "dashboard:uuid=$DASHBOARD")
            ;;
        list)
            HTTP[list.$round]=$(http_run list GET /dashboards "$LIST_TENANT")
            DBONLY[list.$round]=$(pgbench_run list tools/store-sql/list_dashboards.sql \
                "tenant=$LIST_TENANT" "admin=false" "user=$USER_ID")
            SQLX[list.$round]=$(sqlx_run list tools/store-sql/list_dashboards.sql \
                "tenant:text=$LIST_TENANT" "admin:bool=false" "user:text=$USER_ID")
            ;;
        layout)
            HTTP[layout.$round]=$(http_run layout PUT "/dashboards/$DASHBOARD/layout" "$TENANT" \
                "$WORK/layout.json")
            DBONLY[layout.$round]=$(pgbench_run layout tools/store-sql/put_layout.sql \
                "tenant=$TENANT" "dashboard=$DASHBOARD" "ids=$ids_array" \
                "positions=$positions_array")
            SQLX[layout.$round]=$(sqlx_run layout tools/store-sql/put_layout.sql \
                "tenant:text=$TENANT" "dashboard:uuid=$DASHBOARD" "ids:uuid[]=$ids_list" \
                "positions:jsonb[]=$positions_json")
            ;;
        summaries)
            # The Engine asks for one row more than the page to know whether another follows.
            HTTP[summaries.$round]=$(http_run summaries GET "/dashboards/summaries?limit=50" \
                "$SUMMARY_TENANT")
            DBONLY[summaries.$round]=$(pgbench_run summaries \
                tools/store-sql/dashboard_summaries.sql "tenant=$SUMMARY_TENANT" "admin=false" \
                "user=$USER_ID" "with_default=true" "limit=51")
            SQLX[summaries.$round]=$(sqlx_run summaries tools/store-sql/dashboard_summaries.sql \
                "tenant:text=$SUMMARY_TENANT" "admin:bool=false" "user:text=$USER_ID" \
                "with_default:bool=true" "limit:int=51")
            ;;
        conditional)
            # GET with the dashboard's current ETag: a 304 from the access statement alone.
            version=$(curl -sf -H "X-Tenant-ID: $TENANT" -H "X-User-ID: $USER_ID" \
                "$BASE/dashboards/$DASHBOARD" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
            settle
            log "conditional: HTTP GET /dashboards/$DASHBOARD, If-None-Match \"$version\""
            HTTP[conditional.$round]=$("$LOAD" -c "$CONNECTIONS" -d "$DURATION" --warmup "$WARMUP" \
                -H "X-Tenant-ID: $TENANT" -H "X-User-ID: $USER_ID" \
                -H "If-None-Match: \"$version\"" --expect 304 "$BASE/dashboards/$DASHBOARD")
            DBONLY[conditional.$round]=$(pgbench_run conditional \
                tools/store-sql/get_dashboard_not_modified.sql "tenant=$TENANT" "dashboard=$DASHBOARD")
            SQLX[conditional.$round]=$(sqlx_run conditional \
                tools/store-sql/get_dashboard_not_modified.sql \
                "tenant:text=$TENANT" "dashboard:uuid=$DASHBOARD")
            ;;
        unversioned)
            # The layout save's statements as they were before versions, on the database alone:
            # beside `layout`'s pgbench figure, what recording a version costs there.
            HTTP[unversioned.$round]="requests=0 rps=0 p50_ms=0 p99_ms=0"
            DBONLY[unversioned.$round]=$(pgbench_run unversioned \
                tools/store-sql/put_layout_without_versions.sql \
                "tenant=$TENANT" "dashboard=$DASHBOARD" "ids=$ids_array" \
                "positions=$positions_array")
            SQLX[unversioned.$round]=$(sqlx_run unversioned \
                tools/store-sql/put_layout_without_versions.sql \
                "tenant:text=$TENANT" "dashboard:uuid=$DASHBOARD" "ids:uuid[]=$ids_list" \
                "positions:jsonb[]=$positions_json")
            ;;
        *) die "unknown operation $op (OPS takes get, list, layout, summaries, conditional, unversioned)" ;;
    esac
done
done

# --- report ----------------------------------------------------------------------------------

server=$(psql "$BENCH_URL" -XAtc "select current_setting('server_version')")
printf '\n%s connections, %ss per run (after %ss of warm-up), %s rounds, PostgreSQL %s, %s cores, %s\n\n' \
    "$CONNECTIONS" "$DURATION" "$WARMUP" "$ROUNDS" "$server" "$(nproc)" "$(date -u +%Y-%m-%d)"
row() { printf '| %-42s | %9s | %8s | %8s | %9s | %8s | %8s | %9s | %8s | %8s | %8s | %8s |\n' "$@"; }
row operation "HTTP r/s" "p50 ms" "p99 ms" "sqlx tx/s" "p50 ms" "p99 ms" \
    "pgbench/s" "p50 ms" "p99 ms" "HTTP/sqlx" "HTTP/pgb"
row "$(printf -- '-%.0s' {1..42})" "--------:" "-------:" "-------:" "--------:" "-------:" \
    "-------:" "--------:" "-------:" "-------:" "-------:" "-------:"
ratio() { awk -v a="$(field rps "$1")" -v b="$(field rps "$2")" 'BEGIN { printf "%.2f", a / b }'; }
ROUND_LINES=()
for op in $OPS; do
    case $op in
        get) label="GET /dashboards/{id} (12 widgets)" ;;
        list) label="GET /dashboards (50 dashboards)" ;;
        layout) label="PUT /dashboards/{id}/layout (12 widgets)" ;;
        summaries) label="GET /dashboards/summaries (50 of $SUMMARY_DASHBOARDS)" ;;
        conditional) label="GET /dashboards/{id}, If-None-Match: 304" ;;
        unversioned) label="layout save without a version (database only)" ;;
    esac
    # The round whose HTTP/pgbench ratio is the median one stands for the operation.
    ratios=() rounds_text=""
    for round in $(seq 1 "$ROUNDS"); do
        r=$(ratio "${HTTP[$op.$round]}" "${DBONLY[$op.$round]}")
        ratios+=("$r")
        rounds_text+=" $(field rps "${HTTP[$op.$round]}")/$(field rps "${DBONLY[$op.$round]}")=$r"
    done
    median_ratio=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    for round in $(seq 1 "$ROUNDS"); do
        [ "${ratios[round - 1]}" = "$median_ratio" ] && break
    done
    ROUND_LINES+=("$op (HTTP r/s / pgbench tx/s = ratio):$rounds_text")
    h=${HTTP[$op.$round]} q=${SQLX[$op.$round]} d=${DBONLY[$op.$round]}
    row "$label" "$(field rps "$h")" "$(field p50_ms "$h")" "$(field p99_ms "$h")" \
        "$(field rps "$q")" "$(field p50_ms "$q")" "$(field p99_ms "$q")" \
        "$(field rps "$d")" "$(field p50_ms "$d")" "$(field p99_ms "$d")" \
        "$(ratio "$h" "$q")" "$(ratio "$h" "$d")"
done
printf '\nEach row is the round with the median HTTP/pgbench ratio. All rounds:\n'
printf '  %s\n' "${ROUND_LINES[@]}"
