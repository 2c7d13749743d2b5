#!/usr/bin/env bash
# What "a committed change wakes the scheduler" would cost writers (issue 27, docs/freshness.md).
# Change tracking appends one row per writing statement; waking the scheduler on a change would
# add a NOTIFY to that trigger, and every transaction that NOTIFYs takes the same cluster-wide
# lock at commit to append to the notification queue. pgbench, one run each, side by side:
#   capture:          an AFTER STATEMENT trigger appending (relid, xact) to a log, as change tracking does;
#   capture + notify: the same trigger also calling pg_notify, with a session LISTENing, as the scheduler would.
# Each with 1 and 8 clients updating random rows of a 100,000-row table.
#
#   bench/change-wakeup.sh [seconds per run, default 20]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
SECONDS_PER_RUN=${1:-20}
bench_tools
bench_postgres

psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
DROP SCHEMA IF EXISTS wake CASCADE;
CREATE SCHEMA wake;
CREATE TABLE wake.t (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO wake.t SELECT g, 0 FROM generate_series(1, 100000) g;
CREATE TABLE wake.changes (relid oid NOT NULL, xact xid8 NOT NULL, logged_at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE FUNCTION wake.log_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO wake.changes (relid, xact) VALUES (TG_RELID, pg_current_xact_id());
    RETURN NULL;
END $$;
CREATE FUNCTION wake.log_change_and_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO wake.changes (relid, xact) VALUES (TG_RELID, pg_current_xact_id());
    PERFORM pg_notify('matviews_changes', TG_RELID::text);
    RETURN NULL;
END $$;
VACUUM ANALYZE wake.t;
SQL
SCRIPT="$BENCH_OUT/change-wakeup.sql"
printf '\\set id random(1, 100000)\nUPDATE wake.t SET v = v + 1 WHERE id = :id;\n' > "$SCRIPT"

# a listener, as every replica's scheduler would be
( printf 'LISTEN matviews_changes;\n'; while sleep 1; do printf 'SELECT 1;\n'; done ) | psql -qX >/dev/null 2>&1 &
LISTENER=$!
BENCH_PIDS+=("$LISTENER")

run() {
  local label=$1 fn=$2 clients=$3
  psql -qX -c "DROP TRIGGER IF EXISTS capture ON wake.t; CREATE TRIGGER capture AFTER INSERT OR UPDATE OR DELETE ON wake.t
               FOR EACH STATEMENT EXECUTE FUNCTION wake.$fn(); TRUNCATE wake.changes" >/dev/null 2>&1
  local tps
  tps=$(pgbench -n -f "$SCRIPT" -c "$clients" -j "$clients" -T "$SECONDS_PER_RUN" 2>/dev/null \
        | awk '/^tps/ {printf "%.0f", $3}')
  printf '%-18s %2d client(s): %6s tps\n' "$label" "$clients" "$tps"
  echo "$tps"  > "$BENCH_OUT/change-wakeup-$fn-$clients.tps"
}

for clients in 1 8; do
  run "capture" log_change "$clients"
  run "capture + notify" log_change_and_notify "$clients"
done
for clients in 1 8; do
  a=$(cat "$BENCH_OUT/change-wakeup-log_change-$clients.tps")
  b=$(cat "$BENCH_OUT/change-wakeup-log_change_and_notify-$clients.tps")
  python3 -c "print(f'$clients client(s): the NOTIFY costs {100 * (1 - $b / $a):.1f} % of the throughput')"
done
