#!/usr/bin/env bash
# The catalog and the dependency graph at scale (issue 14): 10,000 materialized views in five
# layers over 50 tables and 500 plain views (each matview of a layer reads one or two of the
# layer below, some through a plain view), 1,000 of them registered. Prints the time of a catalog
# page of 100 (first page and at random cursors), a page of 1,000, the whole graph, and the
# graph around one view, each as one client sees it over a kept-alive connection.
#
#   bench/catalog.sh [matviews, default 10000] [samples, default 100]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
VIEWS=${1:-10000}
SAMPLES=${2:-100}
PORT=18083
URL="http://127.0.0.1:$PORT"
bench_tools
bench_postgres
bench_package

echo "creating $VIEWS materialized views (WITH NO DATA), 500 plain views, 50 tables"
python3 - "$VIEWS" <<'PY' | psql -qX -v ON_ERROR_STOP=1 >/dev/null
import random, sys
random.seed(14)
n = int(sys.argv[1])
print("CREATE SCHEMA wide;")
for t in range(50):
    print(f"CREATE TABLE wide.t{t:02d} (id int PRIMARY KEY, v int);")
for p in range(500):
    print(f"CREATE VIEW wide.p{p:03d} AS SELECT id, v FROM wide.t{p % 50:02d};")
layers = 5
per = n // layers
made = []
for layer in range(layers):
    this = []
    for i in range(per):
        name = f"m{layer}_{i:05d}"
        if layer == 0:
            src = f"wide.p{random.randrange(500):03d}" if i % 2 else f"wide.t{random.randrange(50):02d}"
            print(f"CREATE MATERIALIZED VIEW wide.{name} AS SELECT id, v FROM {src} WITH NO DATA;")
        else:
            a, b = random.sample(made[-1], 2)
            if i % 3 == 0:
                print(f"CREATE VIEW wide.via_{name} AS SELECT id, v FROM wide.{a};")
                a = f"via_{name}"
            print(f"CREATE MATERIALIZED VIEW wide.{name} AS SELECT x.id, x.v + y.v AS v FROM wide.{a} x"
                  f" JOIN wide.{b} y USING (id) WITH NO DATA;")
        this.append(name)
    made.append(this)
PY
psql -qXtA -c "SELECT count(*) FILTER (WHERE relkind = 'm') || ' matviews, ' || count(*) FILTER (WHERE relkind = 'v') || ' views in pg_class of ' || (SELECT count(*) FROM pg_class) || ' rows'
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'wide'"

bench_service catalog $PORT
TOKEN=$(bench_token $PORT)
python3 - "$URL" "$TOKEN" "$SAMPLES" "$VIEWS" <<'PY'
import http.client, json, random, sys, time, urllib.parse
url, token, samples, views = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
u = urllib.parse.urlparse(url)
c = http.client.HTTPConnection(u.hostname, u.port)
H = {"authorization": "Bearer " + token, "content-type": "application/json"}

def call(method, path, body=None):
    t = time.perf_counter()
    c.request(method, path, body, H)
    r = c.getresponse()
    data = r.read()
    ms = (time.perf_counter() - t) * 1000
    if r.status >= 300:
        sys.exit(f"{method} {path}: {r.status} {data[:300]}")
    return ms, data

per = views // 5
for i in range(0, per * 5, 10):   # every tenth matview, across all layers
    layer, j = divmod(i, per)
    call("POST", "/api/admin/matviews", json.dumps({"schema": "wide", "viewName": f"m{layer}_{j:05d}"}))
print(f"registered {per * 5 // 10} of them")

def stats(label, times, size=None):
    times = sorted(times)
    p = lambda q: times[min(len(times) - 1, int(len(times) * q))]
    extra = f", {size / 1024:.0f} KB" if size else ""
    print(f"{label}: n={len(times)} p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {times[-1]:.1f} ms{extra}")

# Cursors of every page of 100, for random access.
cursors, cursor = [], None
while True:
    _, data = call("GET", "/api/admin/catalog/matviews?limit=100" + (f"&cursor={cursor}" if cursor else ""))
    page = json.loads(data)
    cursor = page["nextCursor"]
    if not cursor:
        break
    cursors.append(cursor)
for _ in range(10):   # warm-up
    call("GET", "/api/admin/catalog/matviews?limit=100&cursor=" + random.choice(cursors))
first = [call("GET", "/api/admin/catalog/matviews?limit=100") for _ in range(samples)]
stats("catalog, first page of 100", [t for t, _ in first], len(first[0][1]))
rand = [call("GET", "/api/admin/catalog/matviews?limit=100&cursor=" + random.choice(cursors)) for _ in range(samples)]
stats("catalog, page of 100 at a random cursor", [t for t, _ in rand], len(rand[0][1]))
big = [call("GET", "/api/admin/catalog/matviews?limit=1000&cursor=" + random.choice(cursors)) for _ in range(max(5, samples // 10))]
stats("catalog, page of 1,000", [t for t, _ in big], len(big[0][1]))
whole = [call("GET", "/api/admin/graph") for _ in range(max(5, samples // 10))]
g = json.loads(whole[0][1])
stats(f"whole graph ({len(g['nodes'])} nodes, {len(g['edges'])} edges)", [t for t, _ in whole], len(whole[0][1]))
_, data = call("GET", "/api/admin/matviews?schema=wide&limit=1000")
regs = [r for r in json.loads(data)["items"] if r["viewName"].startswith("m4_")]
around = [call("GET", f"/api/admin/matviews/{random.choice(regs)['id']}/graph") for _ in range(samples)]
stats("graph around a view of the top layer", [t for t, _ in around], len(around[0][1]))
PY
