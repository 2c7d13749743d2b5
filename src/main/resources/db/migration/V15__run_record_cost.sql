-- Recording a run's end reads the newest ended run of its view, not its whole history: the
-- registry trigger's "no later run has ended" guard, planned generically (the service's sessions
-- use plan_cache_mode = force_generic_plan), was a sequential scan of every run, so each success
-- record cost more as the history grew (RunRecordCostTest; docs/benchmarks.md, issue 26).
-- Otherwise as in V11.
CREATE OR REPLACE FUNCTION _matviews_run_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status IS NOT DISTINCT FROM NEW.status THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('matviews_runs', jsonb_build_object('run', (to_jsonb(NEW) - 'snapshot' - 'tracking')
        || jsonb_build_object('error', left(NEW.error, 1000)))::text);
    IF NEW.status = 'running' THEN
        UPDATE "${flyway:defaultSchema}"._ayb_matview_refreshes SET current_run_id = NEW.id
         WHERE id = NEW.registration_id;
    ELSIF NEW.status = 'skipped' THEN
        IF NEW.kept_run_id IS NOT NULL THEN
            UPDATE "${flyway:defaultSchema}"._ayb_matview_refreshes SET last_unchanged_at = NEW.finished_at
             WHERE id = NEW.registration_id;
        END IF;
    ELSE
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
           -- "No run of the view started later has ended", asked as "the newest ended run started
           -- no later than this one": the same answer (this run is among the ended ones), read
           -- from the newest end of the registration's index. The NOT EXISTS it replaces was
           -- planned (generically, as the service plans) as a scan of the whole history.
           AND (SELECT max(later.started_at) FROM "${flyway:defaultSchema}"._ayb_matview_refresh_runs later
                 WHERE later.registration_id = NEW.registration_id
                   AND later.status NOT IN ('running', 'skipped')) <= NEW.started_at;
    END IF;
    RETURN NULL;
END
$$;
