#!/usr/bin/env bash
# Benchmarks POST /query/execute on the demo against the database alone, and the result cache:
#
#   uncached  /query/execute with the result cache off (PRISMIQ_CACHE=off), against pgbench
#             running the exact statements PgDataSource sends for it: the read-only BEGIN, the
#             setup statement (statement timeout, search_path, tenant setting), the compiled
#             query with its bound values, and the ROLLBACK (which the data source sends when it
#             hands the connection back, after the response);
#   cached    the same request to a demo with the cache on (every request after the first is a
#             hit), against the uncached HTTP rate.
#
# The query: revenue of completed orders by customer region (a join, a filter, a GROUP BY) on
# the sample dataset, which the demo loads.
#
#     scripts/bench-query.sh
#     CONNECTIONS=16 DURATION=20 scripts/bench-query.sh
#
# The two sides of the uncached comparison run in turns, ROUNDS times (HTTP, pgbench, HTTP,
# pgbench, ...), after the database has been vacuumed and analysed, so that neither side gets the
# quieter moments of the machine; each round's ratio is printed, and the median of the rounds.
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

log() { printf 'bench-query: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

for tool in curl psql python3; do
    command -v "$tool" >/dev/null 2>&1 || die "needs $tool"
done
PGBENCH=$(command -v pgbench 2>/dev/null ||
    ls -d /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | sort -t/ -k5 -rn | head -n1 || true)
if [ -z "$PGBENCH" ] || [ ! -x "$PGBENCH" ]; then
    die "needs pgbench (apt-get install postgresql-contrib, or postgresql)"
fi
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    log "building release binaries (prismiq-demo, http-load)"
    cargo build --release -p prismiq-demo -p http-load
fi
DEMO=target/release/prismiq-demo
LOAD=target/release/http-load

# shellcheck source=scripts/pg-env.sh
source scripts/pg-env.sh

WORK=$(mktemp -d "${TMPDIR:-/tmp}/prismiq-bench-query.XXXXXX")
DB="prismiq_bench_query_$(date +%s)_$$"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    psql "$DATABASE_URL" -Xq -c "drop database if exists \"$DB\" with (force)" >/dev/null 2>&1 || true
    rm -rf "$WORK"
    declare -F prismiq_pg_stop >/dev/null && prismiq_pg_stop
}
trap cleanup EXIT

base=${DATABASE_URL%%\?*}
suffix=${DATABASE_URL#"$base"}
BENCH_URL="${base%/*}/$DB$suffix"
psql "$DATABASE_URL" -Xq -c "create database \"$DB\"" >/dev/null

port_busy() { (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
    local port=$((20000 + RANDOM % 30000))
    while port_busy "$port"; do port=$((port + 1)); done
    echo "$port"
}

# start_demo CACHE VAR: starts the demo (release) with PRISMIQ_CACHE=CACHE and sets VAR to its
# base URL. (Not run in a subshell, so that cleanup knows the process.)
start_demo() {
    local port
    port=$(free_port)
    DATABASE_URL="$BENCH_URL" PORT="$port" PRISMIQ_CACHE="$1" RUST_LOG=warn "$DEMO" \
        >"$WORK/demo-$1.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 1 240); do
        curl -sf "http://127.0.0.1:$port/api/prismiq/health/ready" >/dev/null 2>&1 && break
        sleep 0.25
    done
    curl -sf "http://127.0.0.1:$port/api/prismiq/health/ready" >/dev/null ||
        { cat "$WORK/demo-$1.log" >&2; die "the demo did not start"; }
    printf -v "$2" '%s' "http://127.0.0.1:$port/api/prismiq"
}

QUERY='{"tables":[{"id":"o","name":"orders"},{"id":"c","name":"customers"}],"joins":[{"from_table_id":"o","from_column":"customer_id","to_table_id":"c","to_column":"id"}],"columns":[{"table_id":"c","column":"region"},{"table_id":"o","column":"total_amount","aggregation":"sum","alias":"revenue"}],"filters":[{"table_id":"o","column":"status","operator":"eq","value":"completed"}],"order_by":[{"table_id":"c","column":"region"}]}'
printf '{"query":%s}' "$QUERY" >"$WORK/execute.json"

log "starting the demo with the result cache off (it loads the sample dataset)"
start_demo off UNCACHED
log "starting the demo with the result cache on"
start_demo on CACHED

# The statements PgDataSource sends for the request. The query is compiled with the row cap
# (LIMIT max_rows + 1 = 10001); its text comes from the running demo.
sql=$(curl -sf -X POST -H "X-Tenant-ID: $TENANT" -H 'Content-Type: application/json' \
    -d "$QUERY" "$UNCACHED/query/sql" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sql"])')
[[ "$sql" == *'$1'* && "$sql" != *'$2'* ]] || die "unexpected SQL: $sql"
cat >"$WORK/execute.sql" <<SQL
begin transaction read only;
select pg_backend_pid() from (select set_config('statement_timeout', '30000', true), set_config('search_path', '"public"', true), set_config('prismiq.tenant_id', :tenant, true)) s;
${sql//\$1/:status} LIMIT :row_cap;
rollback;
SQL

http_run() { # URL: prints http-load's line
    "$LOAD" -c "$CONNECTIONS" -d "$DURATION" --warmup "$WARMUP" -X POST \
        -H "X-Tenant-ID: $TENANT" -H 'Content-Type: application/json' \
        --body-file "$WORK/execute.json" "$1/query/execute"
}

pgbench_run() { # prints requests=… rps=… p50_ms=… p99_ms=…
    local args=(-n -M prepared -c "$CONNECTIONS" -j 1 -f "$WORK/execute.sql"
        -D "tenant=$TENANT" -D status=completed -D row_cap=10001)
    "$PGBENCH" "${args[@]}" -T "$WARMUP" "$BENCH_URL" >/dev/null 2>"$WORK/pgbench.err" ||
        { cat "$WORK/pgbench.err" >&2; die "pgbench failed"; }
    local out tps
    rm -f "$WORK"/pgb.*
    out=$("$PGBENCH" "${args[@]}" -T "$DURATION" -l --log-prefix="$WORK/pgb" "$BENCH_URL" 2>"$WORK/pgbench.err") ||
        { cat "$WORK/pgbench.err" >&2; die "pgbench failed"; }
    tps=$(sed -nE 's/^tps = ([0-9.]+).*/\1/p' <<<"$out")
    cat "$WORK"/pgb.* | awk '{ print $3 }' | sort -n | awk -v tps="$tps" '
        { v[NR] = $1 }
        END {
            r50 = int(NR * 0.50 + 0.999999); r99 = int(NR * 0.99 + 0.999999)
            printf "requests=%d rps=%.1f p50_ms=%.3f p99_ms=%.3f\n", NR, tps, v[r50] / 1000, v[r99] / 1000
        }'
}

field() { sed -nE "s/.*(^| )$1=([^ ]+).*/\\2/p" <<<"$2"; }

# Settle the freshly loaded sample data, so that no autovacuum runs during a measurement.
psql "$BENCH_URL" -Xq -c "vacuum (analyze)" >/dev/null

declare -a HTTP_RPS DB_RPS RATIOS
http_uncached="" db=""
for round in $(seq 1 "$ROUNDS"); do
    log "round $round/$ROUNDS, uncached: HTTP ($CONNECTIONS connections, ${DURATION}s)"
    h=$(http_run "$UNCACHED")
    log "round $round/$ROUNDS, uncached: pgbench of the same statements"
    d=$(pgbench_run)
    HTTP_RPS+=("$(field rps "$h")") DB_RPS+=("$(field rps "$d")")
    RATIOS+=("$(awk -v a="$(field rps "$h")" -v b="$(field rps "$d")" 'BEGIN { printf "%.2f", a / b }')")
    printf -v "http_$round" '%s' "$h"
    printf -v "db_$round" '%s' "$d"
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# The round whose ratio is the median one stands for the run in the table.
median_ratio=$(median "${RATIOS[@]}")
for round in $(seq 1 "$ROUNDS"); do
    if [ "${RATIOS[round - 1]}" = "$median_ratio" ]; then
        http_var="http_$round" db_var="db_$round"
        http_uncached=${!http_var} db=${!db_var}
        break
    fi
done

log "cached: HTTP ($CONNECTIONS connections, ${DURATION}s)"
curl -sf -X POST -H "X-Tenant-ID: $TENANT" -H 'Content-Type: application/json' \
    --data-binary @"$WORK/execute.json" "$CACHED/query/execute" >/dev/null
http_cached=$(http_run "$CACHED")
hit=$(curl -sf -X POST -H "X-Tenant-ID: $TENANT" -H 'Content-Type: application/json' \
    --data-binary @"$WORK/execute.json" "$CACHED/query/execute" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["is_from_cache"])')
[ "$hit" = True ] || die "the cached demo did not serve from its cache"

server=$(psql "$BENCH_URL" -XAtc "select current_setting('server_version')")
printf '\n%s connections, %ss per run (after %ss of warm-up), %s rounds, PostgreSQL %s, %s cores, %s\n\n' \
    "$CONNECTIONS" "$DURATION" "$WARMUP" "$ROUNDS" "$server" "$(nproc)" "$(date -u +%Y-%m-%d)"
printf 'rounds (HTTP req/s / pgbench tx/s = ratio):'
for round in $(seq 1 "$ROUNDS"); do
    printf ' %s/%s=%s' "${HTTP_RPS[round - 1]}" "${DB_RPS[round - 1]}" "${RATIOS[round - 1]}"
done
printf '\n\n'
printf '| %-40s | %9s | %8s | %8s | %s |\n' run "req/s" "p50 ms" "p99 ms" ratio
printf '|%s|---:|---:|---:|---:|\n' "------------------------------------------"
row() { printf '| %-40s | %9s | %8s | %8s | %s |\n' "$1" "$(field rps "$2")" "$(field p50_ms "$2")" "$(field p99_ms "$2")" "$3"; }
ratio() { awk -v a="$(field rps "$1")" -v b="$(field rps "$2")" 'BEGIN { printf "%.2f", a / b }'; }
row "database only (pgbench, same statements)" "$db" "1.00"
row "/query/execute, cache off" "$http_uncached" "$(ratio "$http_uncached" "$db") x database (median round)"
row "/query/execute, cache hits" "$http_cached" "$(ratio "$http_cached" "$http_uncached") x uncached"
