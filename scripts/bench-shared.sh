#!/usr/bin/env bash
# Benchmarks reading a widget through a share link against reading it as the host's user:
# `POST /shared/{token}/widgets/{wid}/execute` against `POST /dashboards/{id}/widgets/{wid}/execute`
# of the same widget of the Sales overview, on the demo (SQLite, nothing to install), in turns.
# The link's own cost is a lookup of its token's hash in the store on every request (no
# caching, so a revocation is seen at once); the rest is the same path.
#
#     scripts/bench-shared.sh                    # result cache off: each request runs the query
#     PRISMIQ_CACHE=on scripts/bench-shared.sh   # cache on: each request is a cache hit
#
# Settings (environment): CONNECTIONS (8), DURATION seconds per run (10), WARMUP (2),
# ROUNDS (3), PRISMIQ_CACHE (off), SKIP_BUILD=1 to use the binaries in target/release.
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-8}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
ROUNDS=${ROUNDS:-3}
CACHE=${PRISMIQ_CACHE:-off}

log() { printf 'bench-shared: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# shellcheck source=scripts/bench-demo.sh
source scripts/bench-demo.sh
prismiq_bench_demo bench-shared PRISMIQ_CACHE="$CACHE" PRISMIQ_SHARE_RATE_LIMIT=off

# The Sales overview (owned by user `demo`), its revenue-by-region widget, and a link to it.
read -r dashboard widget < <(curl -sf -H 'X-Tenant-ID: demo' "$BASE/dashboards" | python3 -c '
import json, sys
d = [d for d in json.load(sys.stdin)["dashboards"] if d["name"] == "Sales overview"][0]
w = [w for w in d["widgets"] if w["query"]][0]
print(d["id"], w["id"])')
token=$(curl -sf -X POST -H 'X-Tenant-ID: demo' -H 'X-User-ID: demo' -d '{}' \
    "$BASE/dashboards/$dashboard/shares" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
printf '[]' >"$WORK/body.json"

run() {
    "$LOAD" -c "$CONNECTIONS" -d "$DURATION" --warmup "$WARMUP" -X POST \
        --body-file "$WORK/body.json" -H 'Content-Type: application/json' "$@"
}
field() { sed -nE "s/.*(^| )$1=([^ ]+).*/\\2/p" <<<"$2"; }

ratios=()
for round in $(seq 1 "$ROUNDS"); do
    log "round $round/$ROUNDS: as the host's user, then through the link"
    user=$(run -H 'X-Tenant-ID: demo' -H 'X-User-ID: demo' \
        "$BASE/dashboards/$dashboard/widgets/$widget/execute")
    link=$(run "$BASE/shared/$token/widgets/$widget/execute")
    ratio=$(awk -v a="$(field rps "$link")" -v b="$(field rps "$user")" 'BEGIN { printf "%.2f", a / b }')
    ratios+=("$ratio")
    printf 'round %s: user %s r/s (p50 %s ms, p99 %s ms), link %s r/s (p50 %s ms, p99 %s ms), link/user %s\n' \
        "$round" "$(field rps "$user")" "$(field p50_ms "$user")" "$(field p99_ms "$user")" \
        "$(field rps "$link")" "$(field p50_ms "$link")" "$(field p99_ms "$link")" "$ratio"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
printf '\n%s connections, %ss per run, result cache %s, %s cores, %s: link/user median %s (rounds %s)\n' \
    "$CONNECTIONS" "$DURATION" "$CACHE" "$(nproc)" "$(date -u +%Y-%m-%d)" "$median" "${ratios[*]}"
