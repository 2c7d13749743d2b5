#!/usr/bin/env bash
# Scheduled run start (issue 13): how long after its due time a scheduled refresh's run starts
# (the run row written by the preflight, minus the job's due time), measured in the database,
# over all firings and over those after the first minute (each instance's first firings run
# code for the first time).
#   1. one schedule firing every second, three instances;
#   2. 1,000 schedules on 1,000 views (17 due at each whole second), three instances.
#
#   bench/schedules.sh [seconds per measurement, default 120]
#
# Schedules are written straight into the schedule table, as FiringLatenessBenchmark does, and
# the instances woken by NOTIFY. BENCH_SECTIONS=1 runs only the first.
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
WITH f AS (
    SELECT j.*, r.started_at, extract(epoch FROM r.started_at - j.run_at) * 1000 AS start_ms,
           extract(epoch FROM j.created_at - j.run_at) * 1000 AS wake_ms,
           j.run_at >= min(j.run_at) OVER () + interval '60 seconds' AS warm
      FROM _ayb_jobs j LEFT JOIN _ayb_matview_refresh_runs r ON r.id = j.last_run_id
), phase AS (
    SELECT 'all' AS phase, f.* FROM f UNION ALL SELECT 'after the first minute', f.* FROM f WHERE warm
)
SELECT format('%s: %s firings (%s completed, %s skipped), run started after due: p50 %s ms, p99 %s ms, max %s ms;'
              ' the firing transaction began after due (the wake-up): p50 %s ms, p99 %s ms',
       phase, count(*), count(*) FILTER (WHERE state = 'completed'), count(*) FILTER (WHERE last_error LIKE 'skipped%'),
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY start_ms)::numeric, 1),
       round(percentile_cont(0.99) WITHIN GROUP (ORDER BY start_ms)::numeric, 1),
       round(max(start_ms)::numeric, 1),
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY wake_ms)::numeric, 1),
       round(percentile_cont(0.99) WITHIN GROUP (ORDER BY wake_ms)::numeric, 1))
  FROM phase GROUP BY phase ORDER BY phase DESC;
SELECT 'runs per instance: ' || string_agg(instance_id || ' ' || n, ', ' ORDER BY instance_id)
  FROM (SELECT instance_id, count(*) AS n FROM _ayb_matview_refresh_runs GROUP BY 1) x;
SELECT 'latest starts (firing number: ms after due): ' || string_agg(n || ': ' || round(ms::numeric, 1), ', ' ORDER BY ms DESC)
  FROM (SELECT row_number() OVER (ORDER BY j.run_at) AS n, extract(epoch FROM r.started_at - j.run_at) * 1000 AS ms
          FROM _ayb_jobs j JOIN _ayb_matview_refresh_runs r ON r.id = j.last_run_id
         ORDER BY ms DESC LIMIT 5) worst
SQL
  psql -qX -c "DELETE FROM _ayb_matview_refresh_runs" >/dev/null
}
want() { [[ ",${BENCH_SECTIONS:-1,2}," == *",$1,"* ]]; }
echo
want 1 && measure "one schedule every second, 3 instances, ${SECS}s" 1 "'* * * * * *'"
want 2 && measure "1,000 schedules, each once a minute at second i % 60, 3 instances, ${SECS}s" 1000 "(i % 60) || ' * * * * *'"
