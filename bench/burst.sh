#!/usr/bin/env bash
# The burst (issue 26): 1,000 refreshes of 10-row views due at the same instant, through pg_cron
# (Debian's postgresql-NN-cron in background workers, cron.max_running_jobs = 32 set explicitly:
# this build reported 5 by default here) and through matviews (three instances, as deployed),
# on the same machine and PostgreSQL, one
# after the other. For each due minute: how long after the due instant the last of its 1,000
# refreshes finished. The first minute of matviews runs code for the first time; both sides
# report every minute and the median of the minutes after the first.
#
#   bench/burst.sh [minutes per side, default 3]
#
# BENCH_BURST_SIDES=matviews (or pg_cron) runs one side only; BENCH_BURST_ENV="NAME=VALUE ..."
# configures the three instances (for example MATVIEWS_SCHEDULER_WORKERS=8).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
MINUTES=${1:-3}
bench_tools
PG_MAJOR=$("$PG_BIN/postgres" --version | awk '{print $3}' | cut -d. -f1)
if [ ! -f "$(dirname "$PG_BIN")/lib/pg_cron.so" ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get install -y "postgresql-$PG_MAJOR-cron" >/dev/null 2>&1 \
    || { $sudo apt-get update >/dev/null && $sudo apt-get install -y "postgresql-$PG_MAJOR-cron" >/dev/null; }
fi
BENCH_PG_EXTRA_CONF="shared_preload_libraries = 'pg_stat_statements,pg_cron'
cron.database_name = 'bench'
cron.use_background_workers = on
cron.max_running_jobs = 32
max_worker_processes = 48" bench_postgres
bench_package
views=$(python3 -c "print(''.join(f'CREATE MATERIALIZED VIEW bench.v{i} AS SELECT g AS id FROM generate_series(1, 10) g;' for i in range(1000)))")
psql -qX -v ON_ERROR_STOP=1 -c "CREATE SCHEMA bench" -c "$views" >/dev/null

wait_past() { # sleeps until MINUTES whole minutes from the next one have passed, plus a margin
  sleep $((60 - $(date +%-S) + 60 * MINUTES + 15))
}

SIDES=${BENCH_BURST_SIDES:-pg_cron,matviews}
if [[ ",$SIDES," == *",pg_cron,"* ]]; then
echo
echo "pg_cron $(psql -qXtA -U postgres -c "SELECT default_version FROM pg_available_extensions WHERE name = 'pg_cron'"),"\
" cron.max_running_jobs $(psql -qXtA -U postgres -c "SHOW cron.max_running_jobs"), background workers"
psql -qX -v ON_ERROR_STOP=1 -U postgres <<'SQL' >/dev/null
CREATE EXTENSION pg_cron;
SELECT cron.schedule_in_database('v' || i, '* * * * *', 'REFRESH MATERIALIZED VIEW bench.v' || i, 'bench', 'matviews')
  FROM generate_series(0, 999) i;
SQL
wait_past
psql -qX -U postgres -c "SELECT cron.unschedule(jobid) FROM cron.job" >/dev/null
sleep 20
psql -qXtA -U postgres <<'SQL' | sed 's/^/pg_cron: /'
WITH m AS (
    SELECT date_trunc('minute', start_time) AS due, count(*) AS runs,
           count(*) FILTER (WHERE status = 'succeeded') AS ok,
           extract(epoch FROM max(end_time) - date_trunc('minute', start_time)) AS last_s
      FROM cron.job_run_details GROUP BY 1
)
SELECT format('minute %s: %s runs (%s succeeded), the last finished %s s after due', n, runs, ok, round(last_s::numeric, 2))
  FROM (SELECT row_number() OVER (ORDER BY due) AS n, * FROM m) x ORDER BY n;
SELECT format('median of the minutes after the first: %s s',
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY last_s)::numeric, 2))
  FROM (SELECT row_number() OVER (ORDER BY due) AS n, extract(epoch FROM max_end - due) AS last_s
          FROM (SELECT date_trunc('minute', start_time) AS due, max(end_time) AS max_end
                  FROM cron.job_run_details GROUP BY 1) y) x WHERE n > 1;
SQL
psql -qX -U postgres -c "DROP EXTENSION pg_cron" >/dev/null
fi

[[ ",$SIDES," == *",matviews,"* ]] || exit 0
echo
# shellcheck disable=SC2086 # one word per setting
bench_service s1 18101 ${BENCH_BURST_ENV:-}
# shellcheck disable=SC2086
bench_service s2 18102 ${BENCH_BURST_ENV:-}
# shellcheck disable=SC2086
bench_service s3 18103 ${BENCH_BURST_ENV:-}
echo "matviews, 3 instances ${BENCH_BURST_ENV:-}"
psql -qX -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
INSERT INTO _ayb_job_schedules (name, job_type, payload, cron_expr, next_run_at)
SELECT 'burst-' || i, 'materialized_view_refresh', jsonb_build_object('schema', 'bench', 'view_name', 'v' || i),
       '0 * * * * *', date_trunc('minute', now()) + interval '1 minute'
  FROM generate_series(0, 999) i;
NOTIFY matviews_scheduler, 'schedules';
SQL
wait_past
psql -qX -c "UPDATE _ayb_job_schedules SET enabled = false" >/dev/null
sleep 10
psql -qXtA <<'SQL' | sed 's/^/matviews: /'
WITH m AS (
    SELECT j.run_at AS due, count(*) AS jobs, count(r.id) FILTER (WHERE r.status = 'success') AS ok,
           extract(epoch FROM max(r.finished_at) - j.run_at) AS last_s
      FROM _ayb_jobs j LEFT JOIN _ayb_matview_refresh_runs r ON r.id = j.last_run_id
     GROUP BY j.run_at
)
SELECT format('minute %s: %s jobs (%s refreshed), the last finished %s s after due', n, jobs, ok, round(last_s::numeric, 2))
  FROM (SELECT row_number() OVER (ORDER BY due) AS n, * FROM m) x ORDER BY n;
SELECT format('median of the minutes after the first: %s s',
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY last_s)::numeric, 2))
  FROM (SELECT row_number() OVER (ORDER BY j.run_at) AS n, extract(epoch FROM max(r.finished_at) - j.run_at) AS last_s
          FROM _ayb_jobs j JOIN _ayb_matview_refresh_runs r ON r.id = j.last_run_id GROUP BY j.run_at) x WHERE n > 1;
SQL
