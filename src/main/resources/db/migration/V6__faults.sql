-- 1. A database that AllYourBase already uses holds its own _ayb_jobs and _ayb_job_schedules,
--    which V3's CREATE TABLE IF NOT EXISTS kept as they were: narrower columns, no
--    max_runtime_ms, missed_run_policy, last_run_id or cancel_requested_at, and an idempotency
--    key unique only through a partial index. They are brought to the shape matviews needs in
--    place, rows kept; AllYourBase's extra columns (last_run_at, canceled_at) stay. On matviews'
--    own tables every statement below finds nothing to do.
DO $$
DECLARE
    own constant text := '${flyway:defaultSchema}';
    wanted constant text[][] := ARRAY[
        -- table, column, definition when missing
        ARRAY['_ayb_job_schedules', 'max_runtime_ms', 'INT NOT NULL DEFAULT 3600000 CHECK (max_runtime_ms > 0)'],
        ARRAY['_ayb_job_schedules', 'missed_run_policy',
              'VARCHAR(20) NOT NULL DEFAULT ''run_once'' CHECK (missed_run_policy IN (''run_once'', ''skip''))'],
        ARRAY['_ayb_jobs', 'max_runtime_ms', 'INT NOT NULL DEFAULT 3600000 CHECK (max_runtime_ms > 0)'],
        ARRAY['_ayb_jobs', 'last_run_id', 'UUID'],
        ARRAY['_ayb_jobs', 'cancel_requested_at', 'TIMESTAMPTZ']];
    -- table, column, length: widened only where narrower (no table rewrite for varchar)
    widths constant text[][] := ARRAY[
        ARRAY['_ayb_job_schedules', 'name', '200'],
        ARRAY['_ayb_job_schedules', 'cron_expr', '200'],
        ARRAY['_ayb_job_schedules', 'timezone', '64'],
        ARRAY['_ayb_jobs', 'worker_id', '255']];
    i int;
BEGIN
    FOR i IN 1 .. array_length(wanted, 1) LOOP
        IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = own
                       AND table_name = wanted[i][1] AND column_name = wanted[i][2]) THEN
            EXECUTE format('ALTER TABLE %I.%I ADD COLUMN %I ', own, wanted[i][1], wanted[i][2]) || wanted[i][3];
        END IF;
    END LOOP;
    FOR i IN 1 .. array_length(widths, 1) LOOP
        IF EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = own AND table_name = widths[i][1]
                   AND column_name = widths[i][2] AND character_maximum_length < widths[i][3]::int) THEN
            EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN %I TYPE varchar(%s)', own, widths[i][1], widths[i][2],
                           widths[i][3]);
        END IF;
    END LOOP;
END
$$;

-- 2. A run's end reaches the registry only if no later run of the view has already ended: a
--    failure recorded late (after its connection broke, through another connection, while the
--    view was refreshed again meanwhile) must not overwrite a newer outcome.
CREATE OR REPLACE FUNCTION _matviews_run_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status IS NOT DISTINCT FROM NEW.status THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('matviews_runs', jsonb_build_object('run', to_jsonb(NEW)
        || jsonb_build_object('error', left(NEW.error, 1000)))::text);
    IF NEW.status = 'running' THEN
        UPDATE "${flyway:defaultSchema}"._ayb_matview_refreshes SET current_run_id = NEW.id
         WHERE id = NEW.registration_id;
    ELSIF NEW.status <> 'skipped' THEN
        UPDATE "${flyway:defaultSchema}"._ayb_matview_refreshes reg
           SET last_refresh_at = NEW.finished_at,
               last_refresh_duration_ms = NEW.duration_ms,
               last_refresh_status = CASE WHEN NEW.status = 'success' THEN 'success' ELSE 'error' END,
               last_refresh_error = NEW.error,
               last_success_at = CASE WHEN NEW.status = 'success' THEN NEW.finished_at ELSE reg.last_success_at END,
               current_run_id = CASE WHEN reg.current_run_id = NEW.id THEN NULL ELSE reg.current_run_id END,
               updated_at = NEW.finished_at
         WHERE reg.id = NEW.registration_id
           AND (NEW.status <> 'abandoned' OR reg.current_run_id = NEW.id)
           AND NOT EXISTS (SELECT 1 FROM "${flyway:defaultSchema}"._ayb_matview_refresh_runs later
                            WHERE later.registration_id = NEW.registration_id
                              AND later.started_at > NEW.started_at
                              AND later.status NOT IN ('running', 'skipped'));
    END IF;
    RETURN NULL;
END
$$;
