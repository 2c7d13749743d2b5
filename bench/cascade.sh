#!/usr/bin/env bash
# refresh-all over a dependency graph (issue 14): 200 registered materialized views in a random
# DAG of depth 10 (20 per layer; each reads one view of the layer below and up to two of any lower
# layer), each refresh taking about 50 ms (pg_sleep(0.05) in its query), refreshed with refresh-all
# at parallelism 4. For every measured cascade it prints:
#   - its wall time (the cascade row's started_at to finished_at, as the service records it);
#   - the ideal schedule for that parallelism with the refreshes' own measured durations and no
#     overhead at all: the lower bound max(critical path, total work / P), and the makespan of a
#     critical-path-first list schedule (an achievable schedule; the optimum lies between the two);
#   - the ratio of the wall time to each;
#   - the service's own overhead per node: the time of a node's run outside its REFRESH statement
#     (its run record's start to its end, minus REFRESH), and its dispatch latency: from the moment
#     it could have started (its last parent ended and a slot was free) to its run's start (the
#     coordinator's reaction, the preflight's lock and run insert).
#
#   bench/cascade.sh [views, default 200] [cascades measured, default 5] [parallelism, default 4]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
VIEWS=${1:-200}
RUNS=${2:-5}
PARALLELISM=${3:-4}
PORT=18084
URL="http://127.0.0.1:$PORT"
bench_tools
bench_postgres
bench_package

echo "creating $VIEWS materialized views in a random DAG of depth 10 (each refresh sleeps 50 ms)"
python3 - "$VIEWS" <<'PY' | psql -qX -v ON_ERROR_STOP=1 >/dev/null
import random, sys
random.seed(14)
n = int(sys.argv[1])
depth = 10
per = n // depth
print("CREATE SCHEMA dag;")
print("CREATE TABLE dag.t (id int PRIMARY KEY); INSERT INTO dag.t SELECT generate_series(1, 10);")
layers = []
for layer in range(depth):
    names = [f"v{layer}_{i:02d}" for i in range(per)]
    for name in names:
        if layer == 0:
            sources = ["dag.t"]
        else:
            parents = {random.choice(layers[-1])}
            lower = [v for l in layers for v in l]
            parents.update(random.sample(lower, min(len(lower), random.randint(0, 2))))
            sources = [f"dag.{p}" for p in sorted(parents)]
        joins = " CROSS JOIN ".join(f"(SELECT count(*) AS c FROM {s}) s{k}" for k, s in enumerate(sources))
        print(f"CREATE MATERIALIZED VIEW dag.{name} AS SELECT 1 AS id FROM {joins},"
              f" (SELECT pg_sleep(0.05)) z;")
    layers.append(names)
PY

# Enough connections for the cascade's nodes and the API beside them.
bench_service cascade $PORT MATVIEWS_REFRESH_MAX_CONCURRENT=$((PARALLELISM + 4))
TOKEN=$(bench_token $PORT)
for v in $(psql -qXtA -c "SELECT matviewname FROM pg_matviews WHERE schemaname = 'dag' ORDER BY 1"); do
  bench_register $PORT "$TOKEN" dag "$v" standard >/dev/null
done
echo "registered $(psql -qXtA -c "SELECT count(*) FROM _ayb_matview_refreshes WHERE schema_name = 'dag'") views"

python3 - "$URL" "$TOKEN" "$RUNS" "$PARALLELISM" <<'PY'
import heapq, http.client, json, statistics, subprocess, sys, urllib.parse
from datetime import datetime
url, token, runs, p = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
u = urllib.parse.urlparse(url)
H = {"authorization": "Bearer " + token}

def t(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()

def refresh_all():
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    c.request("POST", f"/api/admin/matviews/refresh-all?schema=dag&parallelism={p}", headers=H)
    r = c.getresponse()
    body = json.loads(r.read())
    assert r.status == 200, body
    return body

def durations(cascade_id):
    rows = subprocess.run(["psql", "-qXtA", "-F", ",", "-c",
                           "SELECT registration_id, duration_ms FROM _ayb_matview_refresh_runs"
                           f" WHERE cascade_id = '{cascade_id}'"], capture_output=True, text=True, check=True)
    return {line.split(",")[0]: int(line.split(",")[1]) / 1000 for line in rows.stdout.split()}

def cascade_wall(cascade_id):
    row = subprocess.run(["psql", "-qXtA", "-c", "SELECT extract(epoch FROM finished_at - started_at)"
                          f" FROM _matviews_cascades WHERE id = '{cascade_id}'"], capture_output=True, text=True, check=True)
    return float(row.stdout)

def ideal(nodes, d):
    """Lower bound, and a critical-path-first list schedule on p slots, with zero overhead."""
    after = {n["registrationId"]: n["after"] for n in nodes}
    children = {k: [] for k in after}
    for k, ps in after.items():
        for q in ps:
            children[q].append(k)
    tail = {}
    def rank(k):
        if k not in tail:
            tail[k] = d[k] + max((rank(c) for c in children[k]), default=0)
        return tail[k]
    critical = max(rank(k) for k in after)
    bound = max(critical, sum(d.values()) / p)
    waiting = {k: len(ps) for k, ps in after.items()}
    ready = [(-rank(k), k) for k, w in waiting.items() if w == 0]
    heapq.heapify(ready)
    running, now, free = [], 0.0, p
    while ready or running:
        while ready and free:
            _, k = heapq.heappop(ready)
            heapq.heappush(running, (now + d[k], k))
            free -= 1
        now, k = heapq.heappop(running)
        free += 1
        for c in children[k]:
            waiting[c] -= 1
            if waiting[c] == 0:
                heapq.heappush(ready, (-rank(c), c))
    return critical, bound, now

def overheads(nodes, d, cascade_start):
    """Per node: its run's time outside REFRESH, and its dispatch latency: from the moment it could
    have started (its last parent ended and a slot was free) to its run's start."""
    inside = [t(n["finishedAt"]) - t(n["startedAt"]) - d[n["registrationId"]] for n in nodes]
    ends = {n["registrationId"]: t(n["finishedAt"]) for n in nodes}
    finishes = sorted(ends.values())
    gaps = []
    for n in nodes:
        start = t(n["startedAt"])
        ready = max((ends[q] for q in n["after"]), default=cascade_start)
        # The slot it took: freed by the latest end before its start (or free from the beginning).
        freed = max((f for f in finishes if f <= start), default=cascade_start)
        gaps.append(start - max(ready, freed, cascade_start))
    return inside, gaps

print("warm-up cascade (cold code paths) ...", flush=True)
first = refresh_all()
assert first["status"] == "success", first["status"]
print(f"{'run':>4} {'wall s':>8} {'critical s':>10} {'bound s':>8} {'list s':>8} {'wall/bound':>10}"
      f" {'wall/list':>9} {'in-run ms':>10} {'dispatch p50 ms':>15} {'p95 ms':>7}")
ratios = []
for i in range(runs):
    c = refresh_all()
    assert c["status"] == "success", c["status"]
    nodes = c["nodes"]
    d = durations(c["id"])
    wall = cascade_wall(c["id"])
    critical, bound, listed = ideal(nodes, d)
    inside, gaps = overheads(nodes, d, t(c["startedAt"]))
    gaps.sort()
    ratios.append(wall / listed)
    print(f"{i + 1:>4} {wall:8.3f} {critical:10.3f} {bound:8.3f} {listed:8.3f} {wall / bound:10.3f}"
          f" {wall / listed:9.3f} {1000 * statistics.mean(inside):10.1f}"
          f" {1000 * gaps[len(gaps) // 2]:15.1f} {1000 * gaps[int(len(gaps) * 0.95)]:7.1f}", flush=True)
print(f"{len(nodes)} nodes; mean REFRESH {1000 * statistics.mean(d.values()):.1f} ms;"
      f" wall / list schedule: median {statistics.median(ratios):.3f}, worst {max(ratios):.3f} (target 1.2)")
PY
