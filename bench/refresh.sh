#!/usr/bin/env bash
# Refresh cost through the service next to the bare REFRESH, in one run (issue 13):
#   1. one client, a 10-row view (standard and concurrent): average latency, service / pgbench;
#   2. one client, a 1,000,000-row view: the two interleaved, average of each;
#   3. 8 clients over 50 views at random: successful refreshes per second, service / pgbench;
#   4. database round trips and WAL flushes per successful refresh, from PostgreSQL's own
#      statement log and pg_stat_wal (the service's background work switched off for it);
#   5. where one refresh's time goes: PostgreSQL's time for the bare REFRESH and for the service's
#      statements (statement log), the rest of the service's latency, and the machine's HTTP floor.
#
#   bench/refresh.sh [seconds per measurement, default 15] [big-view rounds, default 5]
#
# Starts its own PostgreSQL cluster and one packaged instance; BENCH_JFR=1 records the instance,
# BENCH_SECTIONS=1,4 runs only those sections.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
SECS=${1:-15}
BIG_ROUNDS=${2:-5}
PORT=18081
bench_tools
bench_postgres
bench_package

views=""
for i in $(seq 1 50); do
  views+="CREATE MATERIALIZED VIEW bench.v$i AS SELECT g AS id, g * $i AS v FROM generate_series(1, 10) g;
CREATE UNIQUE INDEX ON bench.v$i (id);"
done
psql -qX -v ON_ERROR_STOP=1 <<SQL
CREATE SCHEMA bench;
CREATE MATERIALIZED VIEW bench.tiny AS SELECT g AS id FROM generate_series(1, 10) g;
CREATE UNIQUE INDEX ON bench.tiny (id);
CREATE MATERIALIZED VIEW bench.tiny_c AS SELECT g AS id FROM generate_series(1, 10) g;
CREATE UNIQUE INDEX ON bench.tiny_c (id);
CREATE MATERIALIZED VIEW bench.big AS SELECT g AS id, md5(g::text) AS h FROM generate_series(1, 1000000) g;
CREATE UNIQUE INDEX ON bench.big (id);
$views
SQL

# The service's periodic work off, so that the statement log holds refreshes only.
bench_service bench-1 $PORT MATVIEWS_SCHEDULER_ENABLED=false MATVIEWS_METRICS_POLL_INTERVAL=1h \
  MATVIEWS_RUNS_ABANDON_CHECK_INTERVAL=1h MATVIEWS_RUNS_RETENTION_INTERVAL=24h MATVIEWS_JOBS_RETENTION_INTERVAL=24h
TOKEN=$(bench_token $PORT)
TINY=$(bench_register $PORT "$TOKEN" bench tiny standard)
TINY_C=$(bench_register $PORT "$TOKEN" bench tiny_c concurrent)
BIG=$(bench_register $PORT "$TOKEN" bench big standard)
IDS=()
for i in $(seq 1 50); do IDS+=("$(bench_register $PORT "$TOKEN" bench v$i standard)"); done
URL="http://127.0.0.1:$PORT"
want() { [[ ",${BENCH_SECTIONS:-1,2,3,4,5}," == *",$1,"* ]]; }
result() { grep '^RESULT' | sed 's/^RESULT //'; }
field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k {print $2}'; }

# Warm-up: the JIT, the pool's connections and their prepared statements.
wrk -t2 -c8 -d10s -s bench/refresh.lua "$URL" -- "$TOKEN" "$TINY" "${IDS[@]}" >/dev/null

want 1 && {
echo
echo "== 1. one client, 10-row view, ${SECS}s each"
for mode in standard concurrent; do
  view=tiny; id=$TINY; kw=""
  [ $mode = concurrent ] && { view=tiny_c; id=$TINY_C; kw="CONCURRENTLY "; }
  echo "REFRESH MATERIALIZED VIEW ${kw}bench.$view;" > "$BENCH_WORK/one.sql"
  read -r bare_ms bare_tps <<<"$(bench_pgbench "$BENCH_WORK/one.sql" 1 "$SECS")"
  svc=$(wrk -t1 -c1 -d"${SECS}s" -s bench/refresh.lua "$URL" -- "$TOKEN" "$id" | result)
  svc_ms=$(field "$svc" avg_ms)
  printf '%-10s bare REFRESH avg %6.3f ms | service avg %6.3f ms p50 %6.3f p99 %6.3f | ratio %sx\n' \
    $mode "$bare_ms" "$svc_ms" "$(field "$svc" p50_ms)" "$(field "$svc" p99_ms)" "$(ratio "$svc_ms" "$bare_ms")"
done

}
want 2 && {
echo
echo "== 2. one client, 1,000,000-row view (standard), $BIG_ROUNDS rounds, interleaved"
echo "REFRESH MATERIALIZED VIEW bench.big;" > "$BENCH_WORK/big.sql"
bare_sum=0; svc_sum=0
for r in $(seq 1 "$BIG_ROUNDS"); do
  b=$(pgbench -n -c1 -t1 -f "$BENCH_WORK/big.sql" 2>/dev/null | awk '/latency average/ {print $4}')
  s=$(curl -sf -o /dev/null -w '%{time_total}' -X POST -H "authorization: Bearer $TOKEN" "$URL/api/admin/matviews/$BIG/refresh")
  s=$(python3 -c "print(float('$s') * 1000)")
  printf '  round %d: bare %8.1f ms, service %8.1f ms\n' "$r" "$b" "$s"
  bare_sum=$(python3 -c "print($bare_sum + $b)"); svc_sum=$(python3 -c "print($svc_sum + $s)")
done
printf '1M rows    bare avg %8.1f ms | service avg %8.1f ms | ratio %sx\n' \
  "$(python3 -c "print($bare_sum / $BIG_ROUNDS)")" "$(python3 -c "print($svc_sum / $BIG_ROUNDS)")" "$(ratio "$svc_sum" "$bare_sum")"

}
want 3 && {
echo
echo "== 3. 8 clients, 50 views at random, ${SECS}s each (successful refreshes only)"
printf '\\set v random(1, 50)\nREFRESH MATERIALIZED VIEW bench.v:v;\n' > "$BENCH_WORK/many.sql"
pg0=$(bench_pg_cpu_ms)
read -r _ bare_tps <<<"$(bench_pgbench "$BENCH_WORK/many.sql" 8 "$SECS")"
pg1=$(bench_pg_cpu_ms); jvm1=$(bench_cpu_ms "$(bench_pid bench-1)")
psql -qXtA -U postgres -c "SELECT pg_stat_statements_reset()" >/dev/null
svc=$(wrk -t2 -c8 -d"${SECS}s" -s bench/refresh.lua "$URL" -- "$TOKEN" "${IDS[@]}" | result)
pg2=$(bench_pg_cpu_ms); jvm2=$(bench_cpu_ms "$(bench_pid bench-1)")
svc_ok=$(python3 -c "print(round(float('$(field "$svc" ok_per_s)') * $SECS))")
bare_n=$(python3 -c "print(round(float('$bare_tps') * $SECS))")
echo "CPU per refresh: pgbench's PostgreSQL $(ratio $((pg1 - pg0)) "$bare_n") ms;" \
  "with the service: PostgreSQL $(ratio $((pg2 - pg1)) "$svc_ok") ms, JVM $(ratio $((jvm2 - jvm1)) "$svc_ok") ms"
psql -qX -U postgres -P pager=off -c "SELECT calls, round(mean_exec_time::numeric, 3) AS mean_ms,
    round(total_exec_time::numeric / $svc_ok, 3) AS ms_per_refresh, left(regexp_replace(query, '\\s+', ' ', 'g'), 70) AS query
  FROM pg_stat_statements WHERE userid = 'matviews'::regrole ORDER BY total_exec_time DESC LIMIT 8"
printf '8 clients  pgbench %7.1f refreshes/s | service %7.1f successful/s of %s requests (p99 %s ms) | ratio %sx\n' \
  "$bare_tps" "$(field "$svc" ok_per_s)" "$(field "$svc" requests)" "$(field "$svc" p99_ms)" \
  "$(ratio "$(field "$svc" ok_per_s)" "$bare_tps")"

}
want 4 && {
echo
echo "== 4. round trips and WAL flushes per refresh (200 sequential refreshes of the 10-row view)"
N=200
psql -qX -U postgres -c "ALTER SYSTEM SET log_min_duration_statement = 0" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
log_from=$(wc -l < "$(bench_pg_log)")
wal_before=$(psql -qXtA -c "SELECT wal_sync FROM pg_stat_wal")
psql -qXtA -U postgres -c "SELECT pg_stat_statements_reset()" >/dev/null
ok=0
t0=$(date +%s%N)
for _ in $(seq 1 $N); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "authorization: Bearer $TOKEN" "$URL/api/admin/matviews/$TINY/refresh")
  [ "$code" = 200 ] && ok=$((ok + 1))
done
t1=$(date +%s%N)
wal_after=$(psql -qXtA -c "SELECT wal_sync FROM pg_stat_wal")
psql -qX -U postgres -c "ALTER SYSTEM RESET log_min_duration_statement" -c "SELECT pg_reload_conf()" >/dev/null
# One "duration" entry per simple-protocol message and per extended-protocol execute, that is per
# round trip (parse and bind entries aside); only the service's sessions (vertx-pg-client) count.
tail -n +"$((log_from + 1))" "$(bench_pg_log)" | grep ' vertx-pg-client LOG:  duration: ' \
  | grep -v ' parse \| bind ' > "$BENCH_WORK/trips.log" || true
trips=$(wc -l < "$BENCH_WORK/trips.log")
echo "$ok of $N refreshes succeeded, $(python3 -c "print(f'{($t1 - $t0) / 1e6 / $N:.2f}')") ms each with curl;" \
  "service round trips: $trips ($(ratio "$trips" "$ok") per refresh);" \
  "WAL flushes (pg_stat_wal.wal_sync): $((wal_after - wal_before)) ($(ratio "$((wal_after - wal_before))" "$ok") per refresh)"
echo "server time per round trip (log_min_duration_statement):"
python3 - "$BENCH_WORK/trips.log" <<'PY'
import re, sys, collections
agg = collections.defaultdict(list)
for line in open(sys.argv[1]):
    m = re.search(r'duration: ([0-9.]+) ms  (?:statement|execute [^:]*): *(.*)', line)
    if m:
        agg[m.group(2)[:48]].append(float(m.group(1)))
for k, v in sorted(agg.items(), key=lambda kv: -sum(kv[1])):
    v.sort()
    print(f"  {len(v):5d} x {k:48s} avg {sum(v) / len(v):6.3f} ms  p50 {v[len(v) // 2]:6.3f}")
PY
echo "statements inside them, top by total time (pg_stat_statements, nested statements included):"
psql -qX -U postgres -P pager=off -c "SELECT calls, round(mean_exec_time::numeric, 3) AS mean_ms,
    round(total_exec_time::numeric / $N, 3) AS ms_per_refresh, left(regexp_replace(query, '\\s+', ' ', 'g'), 70) AS query
  FROM pg_stat_statements WHERE userid = 'matviews'::regrole ORDER BY total_exec_time DESC LIMIT 14"
}
want 5 && {
echo
echo "== 5. where one refresh's time goes (one client, 10-row view, ${SECS}s each, statement log on for all)"
psql -qX -U postgres -c "ALTER SYSTEM SET log_min_duration_statement = 0" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
log_from=$(wc -l < "$(bench_pg_log)")
echo 'REFRESH MATERIALIZED VIEW bench.tiny;' > "$BENCH_WORK/one.sql"
read -r bare_ms _ <<<"$(bench_pgbench "$BENCH_WORK/one.sql" 1 "$SECS")"
svc=$(wrk -t1 -c1 -d"${SECS}s" -s bench/refresh.lua "$URL" -- "$TOKEN" "$TINY" | result)
psql -qX -U postgres -c "ALTER SYSTEM RESET log_min_duration_statement" -c "SELECT pg_reload_conf()" >/dev/null
# The machine's HTTP floor: the same client on the liveness check (no database), and on a read of
# the registration (one indexed SELECT) with the token.
live=$(wrk -t1 -c1 -d"${SECS}s" -s bench/get.lua "http://127.0.0.1:$(bench_mgmt_port $PORT)/q/health/live" | result)
one=$(wrk -t1 -c1 -d"${SECS}s" -s bench/get.lua "$URL/api/admin/matviews/$TINY" -- "$TOKEN" | result)
tail -n +"$((log_from + 1))" "$(bench_pg_log)" > "$BENCH_WORK/phase.log"
python3 - "$BENCH_WORK/phase.log" "$bare_ms" "$(field "$svc" avg_ms)" "$(field "$live" avg_ms)" "$(field "$one" avg_ms)" <<'PY'
import re, sys
log, bare_client, svc_client, live_client, one_client = sys.argv[1], *map(float, sys.argv[2:])
bare, pre, msg = [], [], []
for line in open(log):
    m = re.search(r' (\S+) LOG:  duration: ([0-9.]+) ms  (statement|execute [^:]*): *(.*)', line)
    if not m:
        continue
    app, ms, kind, text = m.group(1), float(m.group(2)), m.group(3), m.group(4)
    if app == 'pgbench' and text.startswith('REFRESH'):
        bare.append(ms)
    elif app == 'vertx-pg-client' and text.startswith('WITH pre AS'):
        pre.append(ms)
    elif app == 'vertx-pg-client' and text.startswith("SELECT set_config('statement_timeout'"):
        msg.append(ms)
avg = lambda v: sum(v) / len(v) if v else float('nan')
server_bare, server_svc = avg(bare), avg(pre) + avg(msg)
print(f"bare REFRESH: client {bare_client:.3f} ms, of which PostgreSQL {server_bare:.3f} ms ({len(bare)} refreshes)")
print(f"service:      client {svc_client:.3f} ms, of which PostgreSQL {server_svc:.3f} ms: preflight {avg(pre):.3f},"
      f" REFRESH message {avg(msg):.3f} ({len(msg)} refreshes)")
print(f"  the run history, the lock and the checks in PostgreSQL (service's PostgreSQL time - bare's): {server_svc - server_bare:.3f} ms")
print(f"  HTTP, JSON, the JVM and one more round trip (service client - its PostgreSQL time):     {svc_client - server_svc:.3f} ms")
print(f"  the machine's HTTP floor: GET /q/health/live {live_client:.3f} ms; GET one registration (one SELECT) {one_client:.3f} ms")
print(f"  ratio service / bare REFRESH {svc_client / bare_client:.2f}x; without the statement log see section 1")
PY
}
echo
echo "instance RSS now: $(bench_rss_mb bench-1) MB"
