#!/usr/bin/env bash
# A curl walk-through of the dashboard API against a running demo:
#   cargo run -p prismiq-demo        # in one terminal
#   scripts/walkthrough.sh           # in another (BASE=http://127.0.0.1:8080/api/prismiq)
# Each step prints the request, the status and the response body, and stops at the first
# unexpected status.
set -euo pipefail
BASE=${BASE:-http://127.0.0.1:8080/api/prismiq}
TENANT=${TENANT:-acme}
USER_ID=${USER_ID:-alice}
NAME_SUFFIX=${NAME_SUFFIX:-$(date +%s)}

call() { # call EXPECTED_STATUS METHOD PATH [BODY]
  local expected=$1 method=$2 path=$3 body=${4:-}
  local args=(-s -o /tmp/prismiq-walkthrough.json -w '%{http_code}' -X "$method"
    -H "X-Tenant-ID: $TENANT" -H "X-User-ID: $USER_ID" -H 'Content-Type: application/json')
  [ -n "$body" ] && args+=(-d "$body")
  local status
  status=$(curl "${args[@]}" "$BASE$path")
  echo "== $method $path -> $status" >&2
  python3 -m json.tool < /tmp/prismiq-walkthrough.json >&2 || cat /tmp/prismiq-walkthrough.json >&2
  if [ "$status" != "$expected" ]; then
    echo "expected $expected" >&2
    exit 1
  fi
  cat /tmp/prismiq-walkthrough.json
}
field() { python3 -c "import json,sys; v=json.load(sys.stdin); print(eval('v' + sys.argv[1]))" "$1"; }

QUERY='{"tables":[{"id":"t1","name":"orders"}],"columns":[{"table_id":"t1","column":"total_amount","aggregation":"sum"}]}'

# 1. Create a dashboard with two widgets.
dash=$(call 201 POST /dashboards "{\"name\":\"Sales $NAME_SUFFIX\",\"description\":\"Quarterly\",
  \"filters\":[{\"id\":\"region\",\"type\":\"select\",\"label\":\"Region\",\"field\":\"region\",\"table\":\"customers\"}],
  \"widgets\":[
    {\"type\":\"metric\",\"title\":\"Revenue\",\"query\":$QUERY,\"position\":{\"x\":0,\"y\":0,\"w\":4,\"h\":2},\"config\":{\"valueFormat\":\"currency\"}},
    {\"type\":\"text\",\"title\":\"Notes\",\"position\":{\"x\":4,\"y\":0,\"w\":8,\"h\":2},\"config\":{\"content\":\"Hello\",\"markdown\":true}}]}")
id=$(field '["id"]' <<<"$dash")
w1=$(field '["widgets"][0]["id"]' <<<"$dash")

# 2. Save the whole dashboard as the editor does: keep one widget, add one with a client UUID.
call 200 PATCH "/dashboards/$id" "{\"name\":\"Sales $NAME_SUFFIX v2\",\"description\":null,
  \"widgets\":[{\"id\":\"$w1\",\"type\":\"metric\",\"title\":\"Revenue (all time)\",\"query\":$QUERY,\"position\":{\"x\":0,\"y\":0,\"w\":6,\"h\":2}},
    {\"id\":\"6f1c2a0e-3b7d-4c1e-9a55-2d4f8e9b0c11\",\"type\":\"table\",\"title\":\"Orders\",\"query\":$QUERY,\"position\":{\"x\":6,\"y\":0,\"w\":6,\"h\":4}}]}" >/dev/null

# 3. Move the widgets.
call 200 PUT "/dashboards/$id/layout" "[{\"widget_id\":\"$w1\",\"position\":{\"x\":0,\"y\":4,\"w\":12,\"h\":2}}]" >/dev/null

# 4. Add, change (PUT, as the React client does) and duplicate a widget.
w=$(call 201 POST "/dashboards/$id/widgets" "{\"type\":\"bar_chart\",\"title\":\"By region\",\"query\":$QUERY,\"position\":{\"x\":0,\"y\":6,\"w\":6,\"h\":3}}")
wid=$(field '["id"]' <<<"$w")
call 200 PUT "/dashboards/$id/widgets/$wid" '{"config":{"x_axis":"region","stacked":true}}' >/dev/null
call 201 POST "/dashboards/$id/widgets/$wid/duplicate" >/dev/null

# 5. Export, then import under a new name.
export=$(call 200 GET "/dashboards/$id/export")
copy=$(call 201 POST /dashboards/import "{\"export_data\":$export,\"name_override\":\"Sales copy $NAME_SUFFIX\"}")
copy_id=$(field '["id"]' <<<"$copy")

# 6. Saved queries.
q=$(call 201 POST /saved-queries "{\"name\":\"Revenue $NAME_SUFFIX\",\"query\":$QUERY}")
qid=$(field '["id"]' <<<"$q")
call 200 GET /saved-queries >/dev/null
call 200 PATCH "/saved-queries/$qid" '{"is_shared":true}' >/dev/null
call 200 DELETE "/saved-queries/$qid" >/dev/null

# 7. Pins: pin both dashboards, list, reorder, list contexts, unpin.
call 201 POST /pins "{\"dashboard_id\":\"$id\",\"context\":\"home\"}" >/dev/null
call 201 POST /pins "{\"dashboard_id\":\"$copy_id\",\"context\":\"home\"}" >/dev/null
call 200 GET "/pins?context=home" >/dev/null
call 200 PUT /pins/order "{\"context\":\"home\",\"dashboard_ids\":[\"$copy_id\",\"$id\"]}" >/dev/null
call 200 GET "/dashboards/$id/pins" >/dev/null
call 200 DELETE /pins "{\"dashboard_id\":\"$copy_id\",\"context\":\"home\"}" >/dev/null

# 8. List, then delete both dashboards.
call 200 GET /dashboards >/dev/null
call 200 DELETE "/dashboards/$id" >/dev/null
call 200 DELETE "/dashboards/$copy_id" >/dev/null
call 404 GET "/dashboards/$id" >/dev/null
echo "walk-through complete" >&2
