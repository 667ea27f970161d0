#!/usr/bin/env bash
# Benchmarks the pictures and the page of the Sales overview over HTTP, on the release demo
# (SQLite, nothing to install), with the result cache warm (every widget's rows a cache hit,
# as on a dashboard people keep open): what the server spends drawing, per request.
#
#     scripts/bench-render.sh
#
# One connection (-c 1) gives the server time of one request; eight give the rate the 2 cores
# sustain. The floor beside it: the same widgets' rows as JSON (`POST .../execute`, the same
# cache hits) — a page costs its seven reads plus drawing.
#
# Settings (environment): DURATION seconds per run (8), WARMUP (2), SKIP_BUILD=1 to use the
# binaries in target/release.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-8}
WARMUP=${WARMUP:-2}

log() { printf 'bench-render: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# shellcheck source=scripts/bench-demo.sh
source scripts/bench-demo.sh
prismiq_bench_demo bench-render

read -r dashboard bar < <(curl -sf -H 'X-Tenant-ID: demo' "$BASE/dashboards" | python3 -c '
import json, sys
d = [d for d in json.load(sys.stdin)["dashboards"] if d["name"] == "Sales overview"][0]
w = [w for w in d["widgets"] if w["title"] == "Revenue by region"][0]
print(d["id"], w["id"])')
PAGE="$ROOT/browse/dashboards/$dashboard/view"
curl -sf "$PAGE" >/dev/null || die "the page does not answer"

run() { # name connections url [http-load options...]
    local name=$1 connections=$2 url=$3
    shift 3
    printf '%-44s c=%s  ' "$name" "$connections"
    "$LOAD" -c "$connections" -d "$DURATION" --warmup "$WARMUP" "$@" "$url"
}

run "page (7 widgets, HTML)" 1 "$PAGE"
run "page (7 widgets, HTML)" 8 "$PAGE"
run "bar chart of 5 bars, SVG" 1 "$ROOT/browse/dashboards/$dashboard/widgets/$bar/render.svg"
run "bar chart of 5 bars, PNG 800x400" 1 "$ROOT/browse/dashboards/$dashboard/widgets/$bar/render.png?width=800&height=400"
run "dashboard, PNG 1200 wide" 1 "$ROOT/browse/dashboards/$dashboard/render.png"
run "dashboard, PDF (A4 pages)" 1 "$ROOT/browse/dashboards/$dashboard/render.pdf"
run "floor: the bar chart's rows as JSON" 1 "$BASE/dashboards/$dashboard/widgets/$bar/execute" \
    -X POST -H 'X-Tenant-ID: demo' -H 'X-User-ID: demo'
