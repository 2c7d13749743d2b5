#!/usr/bin/env bash
# skipUnchanged (issue 15), two figures:
#  1. The cost of a skip decision for a view over 5 tables, against a full refresh of the same
#     1,000,000-row view: five tables of 1,000,000 rows joined on their key. Measured as one client
#     sees it (POST .../refresh over a kept-alive connection, p50/p99 of N calls) and as PostgreSQL
#     ran it (pg_stat_statements: the preflight statement's mean time), with an empty change log and
#     with 100,000 old change rows not yet compacted.
#  2. What change tracking costs writers (run first: its transactions are the old ones that the
#     100,000 old change rows of figure 1 stand for): pgbench's TPC-B-like workload (-c 4 -j 2) with and without
#     the triggers on its four tables, alternating, ROUNDS rounds of SECONDS each.
#
#   bench/skip.sh [seconds per pgbench round, default 30] [rounds, default 3] [decisions, default 200]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
SECONDS_PER_ROUND=${1:-30}
ROUNDS=${2:-3}
DECISIONS=${3:-200}
PORT=18085
URL="http://127.0.0.1:$PORT"
bench_tools
bench_postgres
bench_package

echo "creating five tables of 1,000,000 rows and the 1,000,000-row view over them"
psql -qX -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
CREATE SCHEMA wide;
DO $$ BEGIN
  FOR i IN 1..5 LOOP
    EXECUTE format('CREATE TABLE wide.t%s (k int PRIMARY KEY, v int NOT NULL)', i);
    EXECUTE format('INSERT INTO wide.t%s SELECT g, g %% 97 FROM generate_series(1, 1000000) g', i);
    EXECUTE format('ANALYZE wide.t%s', i);
  END LOOP;
END $$;
CREATE MATERIALIZED VIEW wide.mv AS
  SELECT t1.k, t1.v + t2.v + t3.v + t4.v + t5.v AS s
    FROM wide.t1 JOIN wide.t2 USING (k) JOIN wide.t3 USING (k) JOIN wide.t4 USING (k) JOIN wide.t5 USING (k);
SQL

# Compaction hourly, so that the old change rows planted below stay for the decisions measured.
bench_service skip $PORT MATVIEWS_CHANGE_TRACKING_COMPACT_INTERVAL=1h
TOKEN=$(bench_token $PORT)
H=(-H "authorization: Bearer $TOKEN" -H 'content-type: application/json')
ID=$(curl -sf "${H[@]}" -X POST "$URL/api/admin/matviews" \
  -d '{"schema":"wide","viewName":"mv","skipUnchanged":true}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -sf "${H[@]}" -X POST "$URL/api/admin/matviews/$ID/change-tracking" >/dev/null


echo "pgbench TPC-B-like, scale 10, -c 4 -j 2, ${SECONDS_PER_ROUND}s per round, with and without change tracking"
pgbench -q -i -s 10 >/dev/null 2>&1
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE MATERIALIZED VIEW public.branch_totals AS
  SELECT b.bid, b.bbalance, (SELECT sum(t.tbalance) FROM pgbench_tellers t WHERE t.bid = b.bid) AS tellers,
         (SELECT sum(a.abalance) FROM pgbench_accounts a WHERE a.bid = b.bid) AS accounts,
         (SELECT count(*) FROM pgbench_history h WHERE h.bid = b.bid) AS history
    FROM pgbench_branches b;
SQL
PB=$(curl -sf "${H[@]}" -X POST "$URL/api/admin/matviews" \
  -d '{"schema":"public","viewName":"branch_totals","skipUnchanged":true}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
# Each round starts alike: a checkpoint, vacuumed tables, no change rows left (so neither side pays
# for the other's leftovers); checkpoints spaced out so that none falls inside a round by chance.
psql -qX -U postgres -c "ALTER SYSTEM SET max_wal_size = '8GB'" -c "ALTER SYSTEM SET checkpoint_timeout = '30min'" \
  -c "SELECT pg_reload_conf()" >/dev/null
settle() {
  psql -qX -U postgres -c "DELETE FROM _matviews_changes" -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
}
tps() { settle; pgbench -n -c 4 -j 2 -T "$SECONDS_PER_ROUND" 2>/dev/null | awk '/^tps/ {print $3; exit}'; }
without=(); with=()
for r in $(seq 1 "$ROUNDS"); do
  curl -sf "${H[@]}" -X DELETE "$URL/api/admin/matviews/$PB/change-tracking" >/dev/null
  without+=("$(tps)")
  curl -sf "${H[@]}" -X POST "$URL/api/admin/matviews/$PB/change-tracking" >/dev/null
  with+=("$(tps)")
  echo "round $r: without ${without[-1]} tps, with ${with[-1]} tps"
done
python3 - "${without[*]}" "${with[*]}" "$(psql -qXtA -c 'SELECT count(*) FROM _matviews_changes')" <<'PY'
import statistics, sys
wo = [float(x) for x in sys.argv[1].split()]
wi = [float(x) for x in sys.argv[2].split()]
print(f"median without {statistics.median(wo):.0f} tps, with {statistics.median(wi):.0f} tps:"
      f" {100 * (1 - statistics.median(wi) / statistics.median(wo)):.1f} % fewer (target: at most 5 %);"
      f" {sys.argv[3]} change rows left after the last round")
PY

# After pgbench, whose transactions make the 100,000 old change rows below possible.
python3 - "$URL" "$TOKEN" "$ID" "$DECISIONS" <<'PY'
import http.client, json, statistics, subprocess, sys, time, urllib.parse
url, token, rid, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
u = urllib.parse.urlparse(url)
c = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
H = {"authorization": "Bearer " + token}

def refresh():
    t = time.perf_counter()
    c.request("POST", f"/api/admin/matviews/{rid}/refresh", headers=H)
    r = c.getresponse()
    body = json.loads(r.read())
    assert r.status == 200, body
    return time.perf_counter() - t, body

def psql(sql, user=None):
    return subprocess.run(["psql", "-qXtA"] + (["-U", user] if user else []) + ["-c", sql],
                          capture_output=True, text=True, check=True).stdout.strip()

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]

def preflight_mean():
    return float(psql("SELECT coalesce(sum(total_exec_time) / nullif(sum(calls), 0), 0) FROM pg_stat_statements"
                      " WHERE query LIKE 'WITH pre AS MATERIALIZED%'", user="postgres"))

# pgbench's last round left its change rows; a compaction would have cut them to a witness per
# table (this instance compacts hourly, see above).
psql("DELETE FROM _matviews_changes", user="postgres")
fulls = []
for i in range(5):
    psql(f"UPDATE wide.t3 SET v = v + 1 WHERE k = {i + 1}")
    took, body = refresh()
    assert body["skipped"] is None, body
    fulls.append(took)
print(f"full refresh of the 1,000,000-row view: p50 {1000 * statistics.median(fulls):.0f} ms"
      f" (min {1000 * min(fulls):.0f}, max {1000 * max(fulls):.0f}; {len(fulls)} refreshes, each after a one-row update)")

for log_rows in (0, 100000):
    if log_rows:
        # Old change rows, as the writing statements of transactions before the last refresh
        # leave them until the next compaction (this instance compacts hourly): ids of transactions
        # that have ended, so all of them visible in the kept snapshot; several rows per
        # transaction, as a transaction with several writing statements leaves them.
        now = int(psql("SELECT pg_current_xact_id()"))
        psql("INSERT INTO _matviews_changes (relid, xact) SELECT 'wide.t1'::regclass,"
             f" (3 + x % {now - 3})::text::xid8 FROM generate_series(1, {log_rows}) x")
        psql("UPDATE wide.t1 SET v = v WHERE k = 1")
        refresh()
    psql("SELECT pg_stat_statements_reset()", user="postgres")
    times = []
    for _ in range(n):
        took, body = refresh()
        assert body["skipped"] is not None, body
        times.append(took)
    rows = psql("SELECT count(*) FROM _matviews_changes")
    print(f"skip decision, {rows} change rows: client p50 {1000 * pct(times, 0.5):.2f} ms,"
          f" p99 {1000 * pct(times, 0.99):.2f} ms; preflight statement in PostgreSQL {preflight_mean():.2f} ms"
          f" ({n} decisions)")
PY
