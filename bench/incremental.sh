#!/usr/bin/env bash
# Incremental views (issue 28, docs/incremental.md), side by side in one run on one cluster:
#  (a) an aggregate over pgbench's 1,000,000 accounts and a join of two 1,000,000-row tables:
#      a refresh after 1,000 changed rows (incremental apply) against a full rebuild of the same
#      table and against REFRESH MATERIALIZED VIEW of the same definition (median of N each);
#  (b) pgbench TPC-B-like throughput with change capture on its four tables (an incremental view
#      over each) against none, alternated;
#  (c) the change log's size under a write load with a refresh of every view each 5 s.
#
#   bench/incremental.sh [repeats, default 5] [tpcb seconds, default 30] [load seconds, default 120]
#   BENCH_SECTIONS=c bench/incremental.sh 5 30 600   # only some of the sections (default abc)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
REPEATS=${1:-5}
TPCB_SECONDS=${2:-30}
LOAD_SECONDS=${3:-120}
SECTIONS=${BENCH_SECTIONS:-abc}
PORT=18631
bench_tools
bench_postgres
bench_package
export PGUSER=matviews PGPASSWORD=matviews PGDATABASE=bench
pgbench -q -i -s 10 >/dev/null 2>&1
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE TABLE acct_info AS SELECT aid, aid % 997 AS region FROM pgbench_accounts;
ALTER TABLE acct_info ADD PRIMARY KEY (aid);
CREATE SCHEMA ivm;
CREATE MATERIALIZED VIEW ivm.agg_mv AS SELECT bid, count(*) AS n, sum(abalance) AS total FROM public.pgbench_accounts GROUP BY bid;
CREATE MATERIALIZED VIEW ivm.join_mv AS SELECT a.aid, a.abalance, i.region FROM public.pgbench_accounts a JOIN public.acct_info i ON i.aid = a.aid;
VACUUM ANALYZE;
SQL
bench_service inc "$PORT"
TOKEN=$(bench_token "$PORT")
api() { curl -sf -X "$1" "http://127.0.0.1:$PORT$2" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' ${3:+-d "$3"}; }
register() {
  api POST /api/admin/matviews "{\"schema\":\"ivm\",\"viewName\":\"$1\",\"refreshMode\":\"incremental\",\"definition\":\"$2\"}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}
refresh_ms() { api POST "/api/admin/matviews/$1/refresh" | python3 -c 'import json,sys; print(json.load(sys.stdin)["durationMs"])'; }
median() { python3 -c 'import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
sql_ms() { psql -qX -At -c '\timing on' -c "$1" | awk '/^Time:/ {print $2}' | tail -1; }
change_1000() { psql -qX -c "UPDATE public.pgbench_accounts SET abalance = abalance + 1 WHERE aid IN (SELECT (random() * 999999)::int + 1 FROM generate_series(1, 1000))"; }

if [[ $SECTIONS == *a* ]]; then
t0=$(date +%s)
AGG=$(register agg "SELECT bid, count(*) AS n, sum(abalance) AS total FROM public.pgbench_accounts GROUP BY bid")
echo "registered the aggregate (created, capture installed, populated) in $(( $(date +%s) - t0 )) s"
t0=$(date +%s)
JOIN=$(register joined "SELECT a.aid, a.abalance, i.region FROM public.pgbench_accounts a JOIN public.acct_info i ON i.aid = a.aid")
echo "registered the join (1,000,000 rows) in $(( $(date +%s) - t0 )) s"
psql -qX -c "VACUUM ANALYZE ivm.agg, ivm.joined" >/dev/null

echo
echo "(a) a refresh after 1,000 changed accounts (2,000 change rows: an update is its old and new image), median of $REPEATS"
for view in agg joined; do
  id=$AGG; mv=ivm.agg_mv; [ "$view" = joined ] && { id=$JOIN; mv=ivm.join_mv; }
  inc=(); full=(); ref=()
  # the incremental refreshes first, in a row: a rebuild deletes and inserts every row, and the
  # dead rows it leaves (until autovacuum comes) would slow the applies measured after it
  for _ in $(seq 1 "$REPEATS"); do change_1000 >/dev/null; inc+=("$(refresh_ms "$id")"); done
  for _ in $(seq 1 "$REPEATS"); do
    change_1000 >/dev/null
    # a rebuild of the same table: the refresh after its plan forgot the last snapshot ("first population")
    psql -qX -c "UPDATE _matviews_incremental SET snapshot = NULL WHERE registration_id = '$id'" >/dev/null
    full+=("$(refresh_ms "$id")")
    ref+=("$(sql_ms "REFRESH MATERIALIZED VIEW $mv")")
  done
  mi=$(median "${inc[@]}"); mf=$(median "${full[@]}"); mr=$(median "${ref[@]}")
  echo "  $view: incremental ${mi} ms | full rebuild ${mf} ms | REFRESH MATERIALIZED VIEW ${mr} ms | incremental/REFRESH $(python3 -c "print(f'{$mi / $mr * 100:.1f} %')")"
  echo "    runs: incremental ${inc[*]} / rebuild ${full[*]} / REFRESH ${ref[*]}"
done
psql -qX -At -c "SELECT '    last incremental run says: ' || mode_reason FROM _ayb_matview_refresh_runs WHERE view_name = 'agg' AND mode_reason LIKE 'incremental:%' ORDER BY started_at DESC LIMIT 1"
fi

tpcb() { pgbench -n -c 4 -j 4 -T "$TPCB_SECONDS" 2>/dev/null | awk '/^tps/ {print $3}'; }
capture_on() {
  CAP_IDS=()
  CAP_IDS+=("$(register cap_accounts "SELECT bid, count(*) AS n, sum(abalance) AS total FROM public.pgbench_accounts GROUP BY bid")")
  CAP_IDS+=("$(register cap_tellers "SELECT bid, sum(tbalance) AS total FROM public.pgbench_tellers GROUP BY bid")")
  CAP_IDS+=("$(register cap_branches "SELECT bid, bbalance FROM public.pgbench_branches")")
  CAP_IDS+=("$(register cap_history "SELECT tid, count(*) AS n, sum(delta) AS total FROM public.pgbench_history GROUP BY tid")")
}
capture_off() { for id in "${CAP_IDS[@]}"; do api DELETE "/api/admin/matviews/$id?drop=true" >/dev/null; done; }
if [[ $SECTIONS == *b* ]]; then
echo
echo "(b) pgbench TPC-B-like, 4 clients, ${TPCB_SECONDS} s per run, alternated: capture on its four tables (an incremental view over each) against none"
# the views of (a) read pgbench_accounts: out of the way for (b)
[ -n "${AGG:-}" ] && { api DELETE "/api/admin/matviews/$AGG" >/dev/null; api DELETE "/api/admin/matviews/$JOIN" >/dev/null; }
triggers() { psql -qX -At -c "SELECT count(*) FROM pg_trigger WHERE tgname LIKE '\_matviews\_track\_%'"; }
none=(); cap=()
for _ in 1 2; do
  echo "    none: triggers $(triggers)"; none+=("$(tpcb)")
  capture_on; echo "    capture: triggers $(triggers)"; cap+=("$(tpcb)")
  # drain the log the run wrote, as refreshes would
  for id in "${CAP_IDS[@]}"; do refresh_ms "$id" >/dev/null; done
  capture_off
done
mn=$(median "${none[@]}"); mc=$(median "${cap[@]}")
echo "  none ${none[*]} tps | capture ${cap[*]} tps | capture/none $(python3 -c "print(f'{$mc / $mn * 100:.1f} %')")"
fi

if [[ $SECTIONS == *c* ]]; then
echo
echo "(c) the change log over ${LOAD_SECONDS} s of TPC-B-like load (2 clients, 200 tps), every view refreshed each 5 s"
capture_on
pgbench -n -c 2 -j 2 -R 200 -T "$LOAD_SECONDS" >/dev/null 2>&1 &
LOAD=$!
end=$(( $(date +%s) + LOAD_SECONDS ))
while [ "$(date +%s)" -lt "$end" ]; do
  for id in "${CAP_IDS[@]}"; do refresh_ms "$id" >/dev/null || true; done
  psql -qX -At -c "SELECT format('    %s s: log %s rows, %s', $LOAD_SECONDS - ($end - extract(epoch FROM now())::int), count(*), pg_size_pretty(pg_total_relation_size('_matviews_changes'))) FROM _matviews_changes"
  sleep 5
done
wait "$LOAD" || true
psql -qX -At -c "SELECT '  after the load: ' || count(*) || ' rows, ' || pg_size_pretty(pg_total_relation_size('_matviews_changes')) FROM _matviews_changes"
fi
