#!/usr/bin/env bash
# Refreshes that lose the lock (issue 13): bursts of 64 simultaneous POST .../refresh of one
# view whose refresh takes 1 s; one wins, the others must get 409 fast and cheap. Once against
# one instance, once spread over three instances of the same database. Prints the 409 latency,
# the answers, and the preflights the database ran; each twice: over 64 connections opened before
# the bursts, as a client's pool holds them (bench/burst.py, timed from the request's write to
# the answer's last byte), and over 64 new connections per burst (curl, time_total, connection
# set-up included).
#
#   bench/contention.sh [bursts, default 20]   (BENCH_WARMUP_BURSTS, default 20, first)
#
# The last line is this machine's floor for the same burst: GET /q/health/live (on the management port), which needs no
# token and no database.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BURSTS=${1:-20}
bench_tools
bench_postgres
bench_package
psql -qX -v ON_ERROR_STOP=1 -c "CREATE SCHEMA bench" \
  -c "CREATE MATERIALIZED VIEW bench.slow AS SELECT 1 AS id FROM pg_sleep(1)" >/dev/null
bench_service c1 18091
bench_service c2 18092
bench_service c3 18093
TOKEN=$(bench_token 18091)
ID=$(bench_register 18091 "$TOKEN" bench slow standard)

curl_bursts() { # count ports...: bursts of 64 new connections, round robin over the ports; "code ms" lines
  local n=$1 urls=() i=0; shift
  local ports=("$@")
  for i in $(seq 0 63); do urls+=(-o /dev/null "http://127.0.0.1:${ports[$((i % ${#ports[@]}))]}/api/admin/matviews/$ID/refresh"); done
  for _ in $(seq 1 "$n"); do
    curl -s --no-progress-meter -Z --parallel-immediate --parallel-max 64 -X POST -H "authorization: Bearer $TOKEN" \
      -w '%{http_code} %{time_total}\n' "${urls[@]}" | awk '{ printf "%s %.2f\n", $1, $2 * 1000 }'
    sleep 1.2
  done
}

pool_bursts() { # count ports...: bursts over 64 connections opened beforehand
  local n=$1; shift
  python3 "$(dirname "$0")/burst.py" "/api/admin/matviews/$ID/refresh" "$TOKEN" "$n" 1.2 "$@"
}

run() { # label client ports...
  local label=$1 client=$2; shift 2
  # Warm-up: the container's JVM runs C1 code only, compiled after some thousand calls.
  "$client" "${BENCH_WARMUP_BURSTS:-20}" "$@" >/dev/null
  sleep 1.2
  psql -qXtA -U postgres -c "SELECT pg_stat_statements_reset()" >/dev/null
  "$client" "$BURSTS" "$@" > "$BENCH_WORK/burst.txt"
  local preflights
  preflights=$(psql -qXtA -U postgres -c "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE 'WITH pre AS MATERIALIZED%'")
  python3 - "$BENCH_WORK/burst.txt" "$label" "$preflights" "$BURSTS" <<'PY'
import sys, collections
codes, lat = collections.Counter(), []
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) != 2 or not parts[0].isdigit():
        continue
    code, t = parts
    codes[code] += 1
    if code == "409":
        lat.append(float(t))
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, int(len(lat) * p))]
print(f"{sys.argv[2]}: answers {dict(codes)}; 409 p50 {pct(0.5):.1f} ms, p99 {pct(0.99):.1f} ms, max {lat[-1]:.1f} ms;"
      f" preflights run by the database: {sys.argv[3]} ({int(sys.argv[3]) / int(sys.argv[4]):.1f} per burst of 64)")
PY
}
echo
run "pooled connections, one instance, $BURSTS bursts" pool_bursts 18091
run "pooled connections, three instances, $BURSTS bursts" pool_bursts 18091 18092 18093
run "new connections (curl), one instance, $BURSTS bursts" curl_bursts 18091
run "new connections (curl), three instances, $BURSTS bursts" curl_bursts 18091 18092 18093
BURST_METHOD=GET python3 "$(dirname "$0")/burst.py" /q/health/live "$TOKEN" "$BURSTS" 0.3 "$(bench_mgmt_port 18091)" | python3 -c '
import sys
lat = sorted(float(l.split()[1]) for l in sys.stdin if l.startswith("200"))
print(f"floor, GET /q/health/live over pooled connections, one instance: p50 {lat[len(lat) // 2]:.1f} ms,"
      f" p99 {lat[int(len(lat) * 0.99)]:.1f} ms")'
