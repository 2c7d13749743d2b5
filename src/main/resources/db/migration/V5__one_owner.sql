-- One definition, in the database, of what several parts of the service used to write or
-- compute each on their own. Function bodies name matviews' objects schema-qualified: they run
-- under the session's search_path, which is the role's own and may hold an application's table
-- of the same name.

-- Whether a job or schedule of this type and payload refreshes the materialized view
-- schema_name.view_name. Inlined by the planner, so the partial indexes on
-- (payload ->> 'view_name') still serve it.
CREATE OR REPLACE FUNCTION _matviews_targets_view(job_type text, payload jsonb, schema_name text, view_name text)
    RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT $1 = 'materialized_view_refresh'
       AND $2 ->> 'view_name' = $4
       AND coalesce($2 ->> 'schema', 'public') = $3
$$;

-- What a registration shows beyond its own columns: whether it is stale (its last success is
-- older than max_staleness_seconds, or it never succeeded while one is set) and its refresh
-- schedule. A set-returning SQL function that is not volatile, so it is inlined wherever it is
-- used: the registrations view below and the statements that change a registration.
CREATE OR REPLACE FUNCTION _matviews_registration_state(schema_name text, view_name text,
                                                        last_success_at timestamptz, max_staleness_seconds int)
    RETURNS TABLE (stale boolean, schedule jsonb) LANGUAGE sql STABLE AS $$
    SELECT $4 IS NOT NULL AND ($3 IS NULL OR $3 < statement_timestamp() - $4 * interval '1 second'),
           (SELECT jsonb_build_object('id', s.id, 'name', s.name, 'cronExpr', s.cron_expr, 'timezone', s.timezone,
                                      'enabled', s.enabled, 'nextRunAt', s.next_run_at)
              FROM "${flyway:defaultSchema}"._ayb_job_schedules s
             WHERE "${flyway:defaultSchema}"._matviews_targets_view(s.job_type, s.payload, $1, $2)
             ORDER BY s.created_at LIMIT 1)
$$;

-- A registration as the API shows it; read by the registry, the refresh preflight and the
-- freshness metrics.
CREATE OR REPLACE VIEW _matviews_registrations AS
SELECT reg.id, reg.schema_name, reg.view_name, reg.refresh_mode, reg.last_refresh_at, reg.last_refresh_duration_ms,
       reg.last_refresh_status, reg.last_refresh_error, reg.created_at, reg.updated_at, reg.last_success_at,
       reg.current_run_id, reg.statement_timeout_ms, reg.lock_timeout_ms, reg.max_staleness_seconds,
       st.stale, st.schedule
  FROM _ayb_matview_refreshes reg,
       LATERAL _matviews_registration_state(reg.schema_name, reg.view_name, reg.last_success_at,
                                            reg.max_staleness_seconds) st;

-- What follows a run's start or end happens here, once, in the statement that writes the run:
-- - every replica hears of it: the run as it now is goes out on channel matviews_runs (NOTIFY
--   payloads are limited to 8000 bytes, so the error travels shortened; the table keeps it whole);
-- - the registry's outcome columns (last_refresh_*, last_success_at, current_run_id), which
--   nothing else writes, follow it: a run that starts becomes the view's current run; a run that
--   ends (other than skipped) becomes its latest outcome. An abandoned run, a guess made by the
--   sweep, counts only while it is still the current run, so it never overwrites the outcome of
--   a later refresh.
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
           AND (NEW.status <> 'abandoned' OR reg.current_run_id = NEW.id);
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS _matviews_run_changed ON _ayb_matview_refresh_runs;
CREATE TRIGGER _matviews_run_changed
    AFTER INSERT OR UPDATE OF status ON _ayb_matview_refresh_runs
    FOR EACH ROW EXECUTE FUNCTION _matviews_run_changed();
