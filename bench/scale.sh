#!/usr/bin/env bash
# Memory and scale (issue 13):
#   1. resident memory of an idle instance;
#   2. 10,000 registrations: a page of 100 (random pages, 4 connections), the whole original
#      list, the metrics scrape, and resident memory after;
#   3. resident memory and heap after a full GC along 100,000 successful refreshes.
#
#   bench/scale.sh [registrations, default 10000] [refreshes, default 100000]
#
# Starts its own PostgreSQL cluster and one packaged instance with the container's JVM options;
# BENCH_SECTIONS=1,2 leaves out the refreshes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
REGS=${1:-10000}
REFRESHES=${2:-100000}
PORT=18082
URL="http://127.0.0.1:$PORT"
bench_tools
bench_postgres
bench_package
field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k {print $2}'; }
heap_after_gc() {
  jcmd "$(bench_pid scale)" GC.run >/dev/null
  # Serial GC: "def new generation ... used NK" and "tenured generation ... used NK".
  jcmd "$(bench_pid scale)" GC.heap_info | awk '/generation/ {for (i = 1; i <= NF; i++) if ($i == "used") {v = $(i + 1); sub(/K,?$/, "", v); kb += v}}
    END {printf "%.1f MB", kb / 1024}'
}

echo "JVM options: $BENCH_JAVA_OPTS"
bench_service scale $PORT MATVIEWS_METRICS_POLL_INTERVAL=2s
sleep 10
echo
echo "== 1. idle instance: RSS $(bench_rss_mb scale) MB (10 s after ready, no registrations)"

echo
echo "== 2. $REGS registrations"
psql -qX -v ON_ERROR_STOP=1 -c "CREATE SCHEMA many" >/dev/null
python3 - "$REGS" <<'PY' | psql -qX -v ON_ERROR_STOP=1 >/dev/null
import sys
n = int(sys.argv[1])
for i in range(n):
    print(f"CREATE MATERIALIZED VIEW many.v{i:05d} AS SELECT 1 AS id;")
PY
TOKEN=$(bench_token $PORT)
python3 - "$URL" "$TOKEN" "$REGS" <<'PY'
import http.client, json, sys, urllib.parse
url, token, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
u = urllib.parse.urlparse(url)
c = http.client.HTTPConnection(u.hostname, u.port)
for i in range(n):
    body = json.dumps({"schema": "many", "viewName": f"v{i:05d}", "maxStalenessSeconds": 3600 if i % 10 == 0 else None})
    c.request("POST", "/api/admin/matviews", body, {"content-type": "application/json", "authorization": "Bearer " + token})
    r = c.getresponse(); r.read()
    if r.status != 201:
        sys.exit(f"registration {i}: {r.status}")
PY
CURSORS=$(python3 - "$URL" "$TOKEN" <<'PY'
import http.client, json, sys, urllib.parse
url, token = sys.argv[1], sys.argv[2]
u = urllib.parse.urlparse(url)
c = http.client.HTTPConnection(u.hostname, u.port)
cursors, cursor = ["-"], None
while True:
    c.request("GET", "/api/admin/matviews?limit=100" + (f"&cursor={cursor}" if cursor else ""), headers={"authorization": "Bearer " + token})
    page = json.loads(c.getresponse().read())
    cursor = page["nextCursor"]
    if not cursor:
        break
    cursors.append(cursor)
print(" ".join(cursors))
PY
)
echo "registered; $(echo "$CURSORS" | wc -w) pages of 100"
wrk -t1 -c4 -d5s -s bench/page.lua "$URL" -- "$TOKEN" 100 $CURSORS >/dev/null
r=$(wrk -t1 -c4 -d20s --latency -s bench/page.lua "$URL" -- "$TOKEN" 100 $CURSORS | grep '^RESULT' | sed 's/^RESULT //')
echo "page of 100, random pages, 4 connections, 20 s: $(field "$r" requests) requests ($(field "$r" non2xx) not 2xx)," \
  "p50 $(field "$r" p50_ms) ms, p99 $(field "$r" p99_ms) ms, max $(field "$r" max_ms) ms"
r=$(wrk -t1 -c1 -d20s --latency -s bench/page.lua "$URL" -- "$TOKEN" 100 $CURSORS | grep '^RESULT' | sed 's/^RESULT //')
echo "page of 100, random pages, 1 connection, 20 s: $(field "$r" requests) requests, p50 $(field "$r" p50_ms) ms," \
  "p99 $(field "$r" p99_ms) ms, max $(field "$r" max_ms) ms"
for filter in "schema=many&status=never" "stale=true"; do
  t=$(curl -sf -o /dev/null -w '%{time_total}' -H "authorization: Bearer $TOKEN" "$URL/api/admin/matviews?limit=100&$filter")
  echo "page of 100 with $filter: $(python3 -c "print(round($t * 1000, 1))") ms (one request)"
done
for i in 1 2 3; do
  read -r code size t <<<"$(curl -s -o /dev/null -w '%{http_code} %{size_download} %{time_total}' -H "authorization: Bearer $TOKEN" "$URL/api/admin/matviews")"
  echo "whole list (original form): $code, $size bytes, $(python3 -c "print(round($t * 1000, 1))") ms"
done
sleep 3
echo "metrics scrape: $(curl -sf "http://127.0.0.1:$(bench_mgmt_port $PORT)/q/metrics" | wc -c) bytes, $(curl -sf "http://127.0.0.1:$(bench_mgmt_port $PORT)/q/metrics" | grep -c '^matviews_view_') per-view lines"
echo "RSS with $REGS registrations: $(bench_rss_mb scale) MB; heap used after a full GC: $(heap_after_gc)"

[[ ",${BENCH_SECTIONS:-1,2,3}," == *",3,"* ]] || exit 0
echo
echo "== 3. RSS along $REFRESHES successful refreshes (8 connections over 50 views)"
psql -qX -v ON_ERROR_STOP=1 -c "CREATE SCHEMA churn" >/dev/null
IDS=()
for i in $(seq 1 50); do
  psql -qX -c "CREATE MATERIALIZED VIEW churn.v$i AS SELECT g AS id FROM generate_series(1, 10) g" >/dev/null
  IDS+=("$(bench_register $PORT "$TOKEN" churn v$i standard)")
done
done_ok=0
echo "  before: RSS $(bench_rss_mb scale) MB"
while [ "$done_ok" -lt "$REFRESHES" ]; do
  r=$(wrk -t2 -c8 -d30s -s bench/refresh.lua "$URL" -- "$TOKEN" "${IDS[@]}" | grep '^RESULT' | sed 's/^RESULT //')
  done_ok=$((done_ok + $(field "$r" ok)))
  echo "  after $done_ok refreshes: RSS $(bench_rss_mb scale) MB ($(field "$r" ok_per_s)/s)"
done
echo "  heap used after a full GC: $(heap_after_gc); RSS $(bench_rss_mb scale) MB"
sleep 10
echo "  idle again 10 s later: RSS $(bench_rss_mb scale) MB"
echo "  metrics scrape: $(curl -sf "http://127.0.0.1:$(bench_mgmt_port $PORT)/q/metrics" | wc -c) bytes, $(curl -sf "http://127.0.0.1:$(bench_mgmt_port $PORT)/q/metrics" | grep -c '^matviews_view_') per-view lines"
