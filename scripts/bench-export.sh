#!/usr/bin/env bash
# Benchmarks CSV exports: `POST /query/export-sql?format=csv` of the release demo on PostgreSQL
# against `psql -c "\copy (the same query) to stdout csv"`, the physical limit of getting those
# rows out of the database as CSV, for ROWS rows (several sizes); and the demo's resident memory
# while it exports (the growth of its peak, VmHWM, over what it held before).
#
#     scripts/bench-export.sh
#     ROWS="100000 1000000" RUNS=5 scripts/bench-export.sh
#
# The query makes its rows (generate_series, md5, arithmetic and dates: four columns of
# integer, text, numeric and date), so both sides read the same rows without a table.
#
# The server comes from scripts/pg-env.sh (DATABASE_URL, else 127.0.0.1:5432, else a throwaway
# cluster). The script creates a database of its own there and drops it at the end.
#
# Settings (environment): ROWS (the sizes, "100000 1000000"), RUNS per size and side (3),
# SKIP_BUILD=1 to use the binaries already in target/release.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-100000 1000000}
RUNS=${RUNS:-3}

log() { printf 'bench-export: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

for tool in curl psql python3; do
    command -v "$tool" >/dev/null 2>&1 || die "needs $tool"
done
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    log "building the release demo"
    cargo build --release -p prismiq-demo
fi

# shellcheck source=scripts/pg-env.sh
source scripts/pg-env.sh

# shellcheck source=scripts/bench-pg-demo.sh
source scripts/bench-pg-demo.sh
prismiq_bench_pg_demo export

sql() {
    echo "select g as id, md5(g::text) as name, (g % 1000) * 1.5 as amount, date '2020-01-01' + (g % 1000) as day from generate_series(1, $1) g"
}

# kib FIELD: a field of the demo's /proc status, in KiB.
kib() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$DEMO_PID/status"; }

now() { python3 -c 'import time; print(time.monotonic())'; }

# One warm-up export (the first request pays for connections and the schema).
curl -sf -o /dev/null -X POST -H 'X-Tenant-ID: bench' -H 'X-User-ID: bench' \
    -H 'Content-Type: application/json' -d "{\"sql\": \"$(sql 1000)\"}" \
    "$BASE/query/export-sql?format=csv" || die "the warm-up export failed"

printf '\n%s, PostgreSQL %s, %s cores, %s\n\n' "CSV export" \
    "$(psql "$BENCH_URL" -XAtc 'show server_version')" "$(nproc)" "$(date +%F)"
printf '| rows | psql \\copy rows/s (median of %s) | export rows/s (median) | export / psql | same row count | demo RSS before | peak RSS growth |\n' "$RUNS"
printf '| ---: | ---: | ---: | ---: | :---: | ---: | ---: |\n'
for n in $ROWS; do
    query=$(sql "$n")
    psql_times=()
    for _ in $(seq 1 "$RUNS"); do
        t0=$(now)
        psql "$BENCH_URL" -Xq -c "\\copy ($query) to '$WORK/psql.csv' csv header"
        t1=$(now)
        psql_times+=("$(python3 -c "print($t1 - $t0)")")
    done
    rss_before=$(kib VmRSS)
    hwm_before=$(kib VmHWM)
    export_times=()
    for _ in $(seq 1 "$RUNS"); do
        t0=$(now)
        status=$(curl -s -o "$WORK/export.csv" -w '%{http_code}' -X POST \
            -H 'X-Tenant-ID: bench' -H 'X-User-ID: bench' -H 'Content-Type: application/json' \
            -d "{\"sql\": \"$query\"}" "$BASE/query/export-sql?format=csv")
        t1=$(now)
        [ "$status" = 200 ] || { head -c 500 "$WORK/export.csv" >&2; die "the export gave $status"; }
        export_times+=("$(python3 -c "print($t1 - $t0)")")
    done
    hwm_after=$(kib VmHWM)
    # The same rows: psql's CSV and ours differ only in line ends (CRLF) and number text.
    lines_psql=$(wc -l <"$WORK/psql.csv")
    lines_export=$(wc -l <"$WORK/export.csv")
    equal=$([ "$lines_psql" = "$lines_export" ] && echo "rows yes" || echo "NO ($lines_psql vs $lines_export)")
    python3 - "$n" "$rss_before" "$hwm_before" "$hwm_after" "$equal" "${psql_times[*]}" "${export_times[*]}" <<'EOF'
import statistics, sys
n = int(sys.argv[1]); rss, hwm0, hwm1 = (int(x) for x in sys.argv[2:5]); equal = sys.argv[5]
p = statistics.median(float(x) for x in sys.argv[6].split())
e = statistics.median(float(x) for x in sys.argv[7].split())
print(f"| {n:,} | {n / p:,.0f} | {n / e:,.0f} | {p / e:.2f} | {equal} | {rss / 1024:.1f} MiB | {max(0, hwm1 - hwm0) / 1024:.1f} MiB |")
EOF
done
printf '\nPeak RSS growth: the demo'"'"'s VmHWM after the exports of that size less before them.\n'
