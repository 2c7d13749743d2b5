#!/usr/bin/env bash
# Measures refresh-now latency through the service, next to the bare REFRESH in PostgreSQL.
# Run on purpose, not in CI:
#
#   bench/refresh-latency.sh [base-url] [seconds]
#
# Needs: wrk, psql and pgbench (Debian: wrk postgresql-client), a running service, and PG* env
# variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE) for the database it manages.
# Creates and registers a tiny matview bench.tiny (10 rows, unique index) if it is missing.
set -euo pipefail
BASE=${1:-http://localhost:8080}
SECONDS_PER_RUN=${2:-10}
API="$BASE/api/admin/matviews"
here=$(cd "$(dirname "$0")" && pwd)

psql -qX -v ON_ERROR_STOP=1 <<'SQL'
CREATE SCHEMA IF NOT EXISTS bench;
CREATE MATERIALIZED VIEW IF NOT EXISTS bench.tiny AS SELECT g AS id FROM generate_series(1, 10) g;
CREATE UNIQUE INDEX IF NOT EXISTS tiny_id ON bench.tiny (id);
SQL

id_of() { # mode -> registration id of bench.tiny, registered in that mode
  local id
  id=$(curl -sf "$API" | python3 -c 'import json,sys
for r in json.load(sys.stdin)["items"]:
    if r["schemaName"] == "bench" and r["viewName"] == "tiny": print(r["id"])')
  if [ -z "$id" ]; then
    id=$(curl -sf -X POST "$API" -H 'content-type: application/json' \
      -d '{"schema":"bench","viewName":"tiny"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  fi
  curl -sf -X PUT "$API/$id" -H 'content-type: application/json' -d "{\"refreshMode\":\"$1\"}" > /dev/null
  echo "$id"
}

for mode in standard concurrent; do
  kw=""; [ "$mode" = concurrent ] && kw="CONCURRENTLY "
  echo "== $mode: bare REFRESH ${kw}in pgbench (1 client, ${SECONDS_PER_RUN}s)"
  echo "REFRESH MATERIALIZED VIEW ${kw}bench.tiny;" > /tmp/matviews-bench.sql
  pgbench -n -c 1 -T "$SECONDS_PER_RUN" -f /tmp/matviews-bench.sql 2>/dev/null | grep -E "latency average|tps"

  id=$(id_of "$mode")
  echo "== $mode: POST $API/$id/refresh through the service (1 connection, ${SECONDS_PER_RUN}s)"
  wrk -t1 -c1 -d"${SECONDS_PER_RUN}s" --latency -s "$here/post.lua" "$API/$id/refresh" \
    | grep -E "Latency |50%|90%|99%|Requests/sec|Non-2xx"
done
