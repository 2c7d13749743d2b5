#!/usr/bin/env bash
# Freshness targets under a write load (issue 27): the 200-view DAG of bench/cascade.sh (depth 10,
# each view reading one of the layer below and up to two of any lower layer), here over 10 base
# tables and with a deterministic query of about 10 ms instead of pg_sleep (a volatile function
# could never be proven unchanged). Every view is registered with skipUnchanged and change
# tracking and a target drawn between 5 s and 60 s; three instances keep them while a writer
# updates one random base table every 100-900 ms. For the measured window it prints:
#   - the share of samples (one a second per view) in which each view's lag was within its target:
#     overall, the worst view, and how many views stayed within it all the time;
#   - REFRESHes run, against a cron schedule giving the same guarantee without change detection
#     (each view refreshed every target minus its refresh duration), and against one that also keeps
#     lag from the root (each view every tightest target among it and its readers minus its duration);
#   - CPU (the three instances, PostgreSQL) per view and minute.
#
#   bench/targets.sh [minutes measured, default 10] [views, default 200]
#   BENCH_VIEW_WORK (default 150000: the generate_series each view sums, about 10 ms alone) and
#   BENCH_WRITE_PAUSE (default 9: the writer sleeps 0.1 to 0.N s between writes) set the load;
#   MATVIEWS_TARGETS_UPSTREAM_REUSE_SHARE=0 compares with sources refreshed for every reader.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
MINUTES=${1:-10}
VIEWS=${2:-200}
WORK=${BENCH_VIEW_WORK:-150000}
PAUSE=${BENCH_WRITE_PAUSE:-9}
PORTS=(18091 18092 18093)
bench_tools
bench_postgres
bench_package

echo "creating $VIEWS materialized views in a random DAG of depth 10 over 10 tables"
python3 - "$VIEWS" "$WORK" <<'PY' | psql -qX -v ON_ERROR_STOP=1 >/dev/null
import random, sys
random.seed(27)
n = int(sys.argv[1])
work = int(sys.argv[2])
depth = 10
per = n // depth
print("CREATE SCHEMA dag;")
for t in range(10):
    print(f"CREATE TABLE dag.t{t} (id int PRIMARY KEY, v int NOT NULL);"
          f" INSERT INTO dag.t{t} SELECT g, g FROM generate_series(1, 1000) g;")
layers = []
for layer in range(depth):
    names = [f"v{layer}_{i:02d}" for i in range(per)]
    for name in names:
        if layer == 0:
            sources = [f"dag.t{random.randrange(10)}"]
        else:
            parents = {random.choice(layers[-1])}
            lower = [v for l in layers for v in l]
            parents.update(random.sample(lower, min(len(lower), random.randint(0, 2))))
            sources = [f"dag.{p}" for p in sorted(parents)]
        cols = "sum(v)" if layer == 0 else "count(*)"
        joins = " CROSS JOIN ".join(f"(SELECT {cols} AS c FROM {s}) s{k}" for k, s in enumerate(sources))
        # about 10 ms of work that change tracking can prove unchanged (no volatile function)
        print(f"CREATE MATERIALIZED VIEW dag.{name} AS SELECT 1 AS id, s0.c FROM {joins},"
              f" (SELECT sum(g) AS w FROM generate_series(1, {work}) g) z;")
    layers.append(names)
PY

for i in 0 1 2; do
  bench_service "targets$i" "${PORTS[$i]}"
done
TOKEN=$(bench_token "${PORTS[0]}")
echo "registering with skipUnchanged, change tracking and a target of 5 to 60 s"
python3 - "${PORTS[0]}" "$TOKEN" <<'PY'
import http.client, json, random, subprocess, sys
port, token = int(sys.argv[1]), sys.argv[2]
random.seed(2027)
views = subprocess.run(["psql", "-qXtA", "-c", "SELECT matviewname FROM pg_matviews WHERE schemaname = 'dag' ORDER BY 1"],
                       capture_output=True, text=True, check=True).stdout.split()
H = {"authorization": "Bearer " + token, "content-type": "application/json"}
def call(method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request(method, path, json.dumps(body) if body is not None else None, H)
    r = c.getresponse()
    data = r.read()
    assert r.status < 300, (r.status, data)
    return json.loads(data) if data else None
for v in views:
    r = call("POST", "/api/admin/matviews", {"schema": "dag", "viewName": v, "skipUnchanged": True})
    call("POST", f"/api/admin/matviews/{r['id']}/change-tracking")
    call("PUT", f"/api/admin/matviews/{r['id']}", {"targetLag": f"{random.randint(5, 60)}s"})
PY

echo "warming up for 60 s (first refreshes of every view)"
sleep 60

echo "writing to the base tables and sampling lags for $MINUTES minute(s)"
( while true; do
    psql -qX -c "UPDATE dag.t$((RANDOM % 10)) SET v = v + 1 WHERE id = $((RANDOM % 1000 + 1))" >/dev/null
    sleep "0.$((RANDOM % PAUSE + 1))"
  done ) &
WRITER=$!
BENCH_PIDS+=("$WRITER")
cpu_before=0
for i in 0 1 2; do cpu_before=$((cpu_before + $(bench_cpu_ms "$(bench_pid "targets$i")"))); done
pg_before=$(bench_pg_cpu_ms)
start=$(psql -qXtA -c "SELECT clock_timestamp()")
python3 - "$MINUTES" > "$BENCH_OUT/targets-samples.txt" <<'PY'
import subprocess, sys, time
end = time.time() + float(sys.argv[1]) * 60
while time.time() < end:
    out = subprocess.run(["psql", "-qXtA", "-F", " ", "-c",
                          "SELECT id, coalesce(lag_seconds, 1e9), target_lag_seconds FROM _matviews_registrations"
                          " WHERE schema_name = 'dag'"], capture_output=True, text=True).stdout
    print(out.strip(), flush=True)
    time.sleep(1)
PY
finish=$(psql -qXtA -c "SELECT clock_timestamp()")
kill "$WRITER" 2>/dev/null || true
cpu_after=0
for i in 0 1 2; do cpu_after=$((cpu_after + $(bench_cpu_ms "$(bench_pid "targets$i")"))); done
pg_after=$(bench_pg_cpu_ms)

python3 - "$BENCH_OUT/targets-samples.txt" "$MINUTES" "$VIEWS" "$((cpu_after - cpu_before))" "$((pg_after - pg_before))" \
  "$start" "$finish" <<'PY'
import collections, subprocess, sys
samples, minutes, views, java_ms, pg_ms, start, finish = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), \
    int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7]
within, total = collections.Counter(), collections.Counter()
for line in open(samples):
    parts = line.split()
    if len(parts) != 3:
        continue
    rid, lag, target = parts[0], float(parts[1]), float(parts[2])
    total[rid] += 1
    within[rid] += lag <= target
share = sum(within.values()) / max(1, sum(total.values()))
worst = min((within[r] / total[r], r) for r in total)
always = sum(1 for r in total if within[r] == total[r])
def q(sql):
    return subprocess.run(["psql", "-qXtA", "-c", sql], capture_output=True, text=True, check=True).stdout.strip()
window = f"started_at >= '{start}' AND started_at < '{finish}'"
refreshes = int(q(f"SELECT count(*) FROM _ayb_matview_refresh_runs WHERE status = 'success' AND {window}"))
failed = int(q(f"SELECT count(*) FROM _ayb_matview_refresh_runs WHERE status IN ('error', 'timeout') AND {window}"))
missed = q(f"SELECT coalesce(string_agg(reason || ': ' || n, ', '), 'none') FROM (SELECT target_missed AS reason, count(*) AS n"
           f" FROM _ayb_matview_refresh_runs WHERE target_missed IS NOT NULL AND {window} GROUP BY 1) m")
# cron giving the same guarantee with no change detection: every view every (target - its refresh's duration)
cron = float(q("SELECT sum(" + str(minutes * 60) + " / greatest(0.1, r.target_lag_seconds - coalesce(d.ms, 0) / 1000.0))"
               " FROM _ayb_matview_refreshes r LEFT JOIN LATERAL (SELECT avg(duration_ms) AS ms FROM _ayb_matview_refresh_runs"
               " WHERE registration_id = r.id AND status = 'success') d ON true WHERE r.schema_name = 'dag'"))
# the same, keeping lag from the root as the keeper does: each view every (the tightest target among
# it and the views reading it at any depth - its duration); a lower bound, as it also ignores the
# time the refreshes between a view and its reader take
cron_root = float(q("SELECT sum(" + str(minutes * 60) + " / greatest(0.1, e.eff - coalesce(d.ms, 0) / 1000.0))"
                    " FROM (SELECT cl.registration_id AS id, min(r.target_lag_seconds) AS eff FROM _ayb_matview_refreshes r"
                    " JOIN pg_namespace n ON n.nspname = r.schema_name JOIN pg_class c ON c.relnamespace = n.oid"
                    " AND c.relname = r.view_name CROSS JOIN LATERAL _matviews_registered_closure(c.oid, r.id) cl"
                    " WHERE r.schema_name = 'dag' AND r.target_lag_seconds IS NOT NULL GROUP BY 1) e"
                    " LEFT JOIN LATERAL (SELECT avg(duration_ms) AS ms FROM _ayb_matview_refresh_runs"
                    " WHERE registration_id = e.id AND status = 'success') d ON true"))
print(f"samples: {sum(total.values())} over {len(total)} views in {minutes:g} min")
print(f"within target: {100 * share:.3f} % of samples; worst view {100 * worst[0]:.1f} %;"
      f" {always} of {len(total)} views always within")
print(f"REFRESHes: {refreshes} (failed {failed}); cron with the same guarantee: {cron:.0f}"
      f" ({refreshes / cron:.2f}x); keeping lag from the root: {cron_root:.0f} ({refreshes / cron_root:.2f}x)")
print(f"missed targets by reason: {missed}")
per_view_min = lambda ms: ms / views / minutes
print(f"CPU per view and minute: instances {per_view_min(java_ms):.1f} ms, PostgreSQL {per_view_min(pg_ms):.1f} ms")
PY
