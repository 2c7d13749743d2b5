#!/usr/bin/env bash
# Refreshes that lose the lock (issue 13): bursts of 64 simultaneous POST .../refresh of one
# view whose refresh takes 1 s; one wins, the others must get 409 fast and cheap. Once against
# one instance, once spread over three instances of the same database. Prints the 409 latency
# (curl's time_total, connection included), the answers, and the preflights the database ran.
#
#   bench/contention.sh [bursts, default 20]
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

burst() { # ports...: one burst of 64 requests, round robin over the ports; "code seconds" lines
  local urls=() i=0 ports=("$@")
  for i in $(seq 0 63); do urls+=(-o /dev/null "http://127.0.0.1:${ports[$((i % ${#ports[@]}))]}/api/admin/matviews/$ID/refresh"); done
  curl -s --no-progress-meter -Z --parallel-immediate --parallel-max 64 -X POST -H "authorization: Bearer $TOKEN" \
    -w '%{http_code} %{time_total}\n' "${urls[@]}"
}

run() { # label ports...
  local label=$1; shift
  burst "$@" >/dev/null # warm-up
  sleep 1.2
  psql -qXtA -U postgres -c "SELECT pg_stat_statements_reset()" >/dev/null
  : > "$BENCH_WORK/burst.txt"
  for _ in $(seq 1 "$BURSTS"); do burst "$@" >> "$BENCH_WORK/burst.txt"; sleep 1.2; done
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
        lat.append(float(t) * 1000)
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, int(len(lat) * p))]
print(f"{sys.argv[2]}: answers {dict(codes)}; 409 p50 {pct(0.5):.1f} ms, p99 {pct(0.99):.1f} ms, max {lat[-1]:.1f} ms;"
      f" preflights run by the database: {sys.argv[3]} ({int(sys.argv[3]) / int(sys.argv[4]):.1f} per burst of 64)")
PY
}
echo
run "one instance, $BURSTS bursts" 18091
run "three instances, $BURSTS bursts" 18091 18092 18093
