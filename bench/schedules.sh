#!/usr/bin/env bash
# Scheduled run start (issue 13): how long after its due time a scheduled refresh's run starts
# (the run row written by the preflight, minus the job's due time), measured in the database.
#   1. one schedule firing every second, three instances;
#   2. 1,000 schedules on 1,000 views (17 due at each whole second), three instances.
#
#   bench/schedules.sh [seconds per measurement, default 120]
#
# Schedules are written straight into the schedule table, as FiringLatenessBenchmark does, and
# the instances woken by NOTIFY.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
SECS=${1:-120}
bench_tools
bench_postgres
bench_package
views=$(python3 -c "print(''.join(f'CREATE MATERIALIZED VIEW bench.v{i} AS SELECT g AS id FROM generate_series(1, 10) g;' for i in range(1000)))")
psql -qX -v ON_ERROR_STOP=1 -c "CREATE SCHEMA bench" -c "$views" >/dev/null
bench_service s1 18101
bench_service s2 18102
bench_service s3 18103

measure() { # label count cron
  local label=$1 n=$2 cron=$3
  psql -qX -v ON_ERROR_STOP=1 <<SQL >/dev/null
DELETE FROM _ayb_job_schedules;
DELETE FROM _ayb_jobs;
INSERT INTO _ayb_job_schedules (name, job_type, payload, cron_expr, next_run_at)
SELECT 'bench-' || i, 'materialized_view_refresh', jsonb_build_object('schema', 'bench', 'view_name', 'v' || i),
       $cron, date_trunc('minute', now()) + interval '1 minute' + (i % 60) * interval '1 second'
  FROM generate_series(0, $n - 1) i;
NOTIFY matviews_scheduler, 'schedules';
SQL
  # The first firings come within the next minute; then the window.
  sleep $((60 - $(date +%-S) + SECS))
  psql -qX -c "UPDATE _ayb_job_schedules SET enabled = false" >/dev/null
  sleep 10
  psql -qXtA <<'SQL' | sed "s/^/$label: /"
SELECT format('%s firings (%s completed, %s skipped), run started after due: p50 %s ms, p99 %s ms, max %s ms; per instance %s',
       count(*), count(*) FILTER (WHERE j.state = 'completed'), count(*) FILTER (WHERE j.last_error LIKE 'skipped%'),
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM r.started_at - j.run_at) * 1000)::numeric, 1),
       round(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM r.started_at - j.run_at) * 1000)::numeric, 1),
       round(max(extract(epoch FROM r.started_at - j.run_at) * 1000)::numeric, 1),
       (SELECT string_agg(instance_id || ' ' || n, ', ' ORDER BY instance_id)
          FROM (SELECT instance_id, count(*) AS n FROM _ayb_matview_refresh_runs GROUP BY 1) x))
  FROM _ayb_jobs j LEFT JOIN _ayb_matview_refresh_runs r ON r.id = j.last_run_id
SQL
  psql -qX -c "DELETE FROM _ayb_matview_refresh_runs" >/dev/null
}
echo
measure "one schedule every second, 3 instances, ${SECS}s" 1 "'* * * * * *'"
measure "1,000 schedules, each once a minute at second i % 60, 3 instances, ${SECS}s" 1000 "(i % 60) || ' * * * * *'"
