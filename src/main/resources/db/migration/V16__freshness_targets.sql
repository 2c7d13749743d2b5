-- Issue 27: freshness targets. A registration says how fresh its view must be (target_lag_seconds,
-- or target_downstream: only as fresh as a consumer with a target needs), and the service keeps it
-- so. docs/freshness.md has the definitions and the argument; in short:
-- - data_timestamp: the latest instant as of which the view's contents are known to reflect every
--   committed change of its sources. A successful refresh sets it to the start of its REFRESH
--   message (REFRESH's snapshot is taken after it); a check that proves nothing changed since moves
--   it to the check's time; a check that finds changes moves it to the start of the first writer not
--   yet reflected. Never later than the data timestamps the registered matviews it reads had when it
--   read them.
-- - the target keeper (_matviews_keep_targets) looks at a view when its lag could reach its target
--   (data timestamp + target - predicted duration - margin), checks it and its registered sources,
--   and queues one refresh job (a cascade through its sources when it reads registered matviews)
--   only when something changed.

ALTER TABLE "${flyway:defaultSchema}"._ayb_matview_refreshes
    ADD COLUMN IF NOT EXISTS target_lag_seconds   INT CHECK (target_lag_seconds BETWEEN 1 AND 31622400),
    ADD COLUMN IF NOT EXISTS target_downstream    BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS data_timestamp       TIMESTAMPTZ,
    -- when the keeper looks at the view next (NULL: at its next pass)
    ADD COLUMN IF NOT EXISTS target_next_at       TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS target_missed_at     TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS target_missed_reason TEXT,
    -- scheduled (job) refreshes that failed in a row; any success resets it
    ADD COLUMN IF NOT EXISTS consecutive_failures INT NOT NULL DEFAULT 0,
    -- suspended: no scheduled or target-driven refresh until resumed; suspended_by: the registration
    -- whose failures suspended it (itself, or a registered view it reads)
    ADD COLUMN IF NOT EXISTS suspended_at         TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS suspended_reason     TEXT,
    ADD COLUMN IF NOT EXISTS suspended_by         UUID;

-- What the database side needs of the service's configuration, written by every replica at start:
-- suspend_after (matviews.suspension.after-failures; 0: never).
CREATE TABLE IF NOT EXISTS "${flyway:defaultSchema}"._matviews_settings (
    id            BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
    suspend_after INT NOT NULL DEFAULT 5 CHECK (suspend_after >= 0)
);
INSERT INTO "${flyway:defaultSchema}"._matviews_settings DEFAULT VALUES ON CONFLICT (id) DO NOTHING;

-- The alert outbox: every refresh-failed, suspended, target-missed and recovered event, written in
-- the transaction of the state change it reports, so none is lost to a restart and none is told
-- of a change that rolled back. Delivered to the configured webhook by one replica at a time
-- (claimed FOR UPDATE SKIP LOCKED under a lease), retried with capped backoff, kept for
-- matviews.alerts.retention and at most matviews.alerts.max-rows rows (the oldest go first).
-- event_id comes from the run event sequence: the event stream replays alerts with runs.
CREATE TABLE IF NOT EXISTS "${flyway:defaultSchema}"._matviews_alerts (
    id              UUID        NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    event_id        BIGINT      NOT NULL DEFAULT nextval('"${flyway:defaultSchema}"._ayb_matview_run_event_seq'),
    event           VARCHAR(20) NOT NULL CHECK (event IN ('refresh-failed', 'suspended', 'target-missed', 'recovered')),
    registration_id UUID        NOT NULL,
    schema_name     TEXT        NOT NULL,
    view_name       TEXT        NOT NULL,
    at              TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    detail          JSONB       NOT NULL DEFAULT '{}'::jsonb,
    state           VARCHAR(10) NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dropped')),
    attempts        INT         NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    delivered_at    TIMESTAMPTZ,
    last_error      TEXT
);
CREATE INDEX IF NOT EXISTS _matviews_alerts_pending ON "${flyway:defaultSchema}"._matviews_alerts (next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS _matviews_alerts_event_id ON "${flyway:defaultSchema}"._matviews_alerts (event_id);
CREATE INDEX IF NOT EXISTS _matviews_alerts_at ON "${flyway:defaultSchema}"._matviews_alerts (at);

-- Records an alert and tells every replica (the event stream), in the caller's transaction.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_alert(kind text, reg_id uuid, info jsonb)
    RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    a record;
BEGIN
    INSERT INTO "${flyway:defaultSchema}"._matviews_alerts (event, registration_id, schema_name, view_name, detail)
    SELECT kind, reg.id, reg.schema_name, reg.view_name, coalesce(info, '{}'::jsonb)
      FROM "${flyway:defaultSchema}"._ayb_matview_refreshes reg WHERE reg.id = reg_id
    RETURNING * INTO a;
    IF a.id IS NOT NULL THEN
        PERFORM pg_notify('matviews_runs', jsonb_build_object('alert', jsonb_build_object(
            'id', a.id, 'eventId', a.event_id, 'event', a.event, 'registrationId', a.registration_id,
            'schema', a.schema_name, 'view', a.view_name, 'at', a.at, 'detail', a.detail))::text);
    END IF;
END
$$;

-- Registered views that read the view, at any depth through plain views and other matviews.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_registered_readers(view_oid oid)
    RETURNS TABLE (registration_id uuid) LANGUAGE sql STABLE AS $$
    WITH RECURSIVE down(oid, path) AS (
        SELECT view_oid, ARRAY[view_oid]
        UNION
        SELECT rw.ev_class, down.path || rw.ev_class
          FROM down
          JOIN pg_catalog.pg_depend d ON d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = down.oid
                                      AND d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
          JOIN pg_catalog.pg_rewrite rw ON rw.oid = d.objid
         WHERE rw.ev_class <> down.oid AND NOT rw.ev_class = ANY (down.path) AND cardinality(down.path) < 64
    )
    SELECT DISTINCT reg.id
      FROM down
      JOIN pg_catalog.pg_class c ON c.oid = down.oid AND c.relkind = 'm'
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      JOIN "${flyway:defaultSchema}"._ayb_matview_refreshes reg ON reg.schema_name = n.nspname AND reg.view_name = c.relname
     WHERE down.oid <> view_oid
$$;

-- Suspends a registration and every registered view that reads it, naming it, with an alert each.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_suspend(reg_id uuid, reason text)
    RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    root record;
    reader record;
BEGIN
    UPDATE "${flyway:defaultSchema}"._ayb_matview_refreshes reg
       SET suspended_at = clock_timestamp(), suspended_reason = reason, suspended_by = reg.id
     WHERE reg.id = reg_id AND reg.suspended_at IS NULL
    RETURNING reg.* INTO root;
    IF root.id IS NULL THEN
        RETURN;
    END IF;
    PERFORM "${flyway:defaultSchema}"._matviews_alert('suspended', root.id, jsonb_build_object('reason', reason));
    FOR reader IN
        UPDATE "${flyway:defaultSchema}"._ayb_matview_refreshes reg
           SET suspended_at = clock_timestamp(), suspended_by = root.id,
               suspended_reason = 'reads ' || pg_catalog.quote_ident(root.schema_name) || '.'
                                  || pg_catalog.quote_ident(root.view_name) || ', which is suspended: ' || reason
         WHERE reg.suspended_at IS NULL
           AND reg.id IN (SELECT r.registration_id FROM "${flyway:defaultSchema}"._matviews_registered_readers(
                              pg_catalog.to_regclass(pg_catalog.quote_ident(root.schema_name) || '.'
                                                     || pg_catalog.quote_ident(root.view_name))) r)
        RETURNING reg.id, reg.suspended_reason
    LOOP
        PERFORM "${flyway:defaultSchema}"._matviews_alert('suspended', reader.id,
                                                          jsonb_build_object('reason', reader.suspended_reason,
                                                                             'suspendedBy', root.id));
    END LOOP;
END
$$;
ALTER TABLE "${flyway:defaultSchema}"._ayb_matview_refreshes DROP CONSTRAINT IF EXISTS _matviews_one_target;
ALTER TABLE "${flyway:defaultSchema}"._ayb_matview_refreshes
    ADD CONSTRAINT _matviews_one_target CHECK (NOT (target_downstream AND target_lag_seconds IS NOT NULL));

-- data_timestamp: what the run's data reflects (success) or what the skip proved (skipped); while it
-- runs, the bound the registered matviews it reads set (see _matviews_upstream_data_at);
-- target_missed: the missed target this run was part of, with its reason.
ALTER TABLE "${flyway:defaultSchema}"._ayb_matview_refresh_runs
    ADD COLUMN IF NOT EXISTS data_timestamp TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS target_missed  TEXT;

-- Registrations that existed before: the start of their last successful refresh.
UPDATE "${flyway:defaultSchema}"._ayb_matview_refreshes reg
   SET data_timestamp = (SELECT max(run.started_at) FROM "${flyway:defaultSchema}"._ayb_matview_refresh_runs run
                          WHERE run.registration_id = reg.id AND run.status = 'success')
 WHERE reg.data_timestamp IS NULL;

-- The data timestamp the registered matviews a view reads (at any depth through plain views) have
-- now: the earliest of theirs; '-infinity' when one of them has none (its data is of unknown age);
-- NULL when it reads none. PL/pgSQL, not SQL: every refresh's preflight calls it, and a SQL
-- function's plan of the recursive walk is made again at every call (0.85 ms here), where
-- PL/pgSQL keeps it for the session.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_upstream_data_at(view_oid oid)
    RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT CASE WHEN bool_or(up.data_timestamp IS NULL) THEN '-infinity'::timestamptz
                        ELSE min(up.data_timestamp) END
              FROM "${flyway:defaultSchema}"._matviews_sources(view_oid) s
              JOIN pg_catalog.pg_class c ON c.oid = s.relid
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              JOIN "${flyway:defaultSchema}"._ayb_matview_refreshes up
                ON up.schema_name = n.nspname AND up.view_name = c.relname
             WHERE s.kind = 'm');
END
$$;

-- A view's own data time bounded by its registered sources', NULL when unknown.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_bounded_data_at(own timestamptz, upstream timestamptz)
    RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$
    SELECT nullif(least(own, upstream), '-infinity'::timestamptz)
$$;

-- What a check can prove about a registration's view now, without refreshing it:
-- - provable: change tracking can answer for it (populated, no blocker, its last success recorded a
--   snapshot and the same fingerprint it has now), and no registered matview it reads was
--   refreshed since that snapshot;
-- - first_change: when the first writer whose change its data does not reflect began (the change
--   row with the smallest transaction id not visible in its last snapshot: any other such change
--   was committed after that transaction got its id, so the data reflects every change committed
--   before); NULL when there is none;
-- - upstream_at: the registered matviews' data timestamp (see _matviews_upstream_data_at).
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_freshness(view_oid oid, reg_id uuid)
    RETURNS TABLE (provable boolean, first_change timestamptz, upstream_at timestamptz)
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    last record;
    state record;
    populated boolean;
    tables oid[];
    matviews oid[];
    moved boolean;
BEGIN
    upstream_at := "${flyway:defaultSchema}"._matviews_upstream_data_at(view_oid);
    SELECT c.relispopulated INTO populated FROM pg_catalog.pg_class c WHERE c.oid = view_oid;
    SELECT run.id, run.snapshot, run.tracking INTO last
      FROM "${flyway:defaultSchema}"._ayb_matview_refresh_runs run
     WHERE run.registration_id = reg_id AND run.status = 'success'
     ORDER BY run.started_at DESC LIMIT 1;
    IF NOT coalesce(populated, false) OR last.snapshot IS NULL OR last.tracking IS NULL THEN
        provable := false;
        RETURN NEXT;
        RETURN;
    END IF;
    SELECT * INTO state FROM "${flyway:defaultSchema}"._matviews_change_state(view_oid, reg_id);
    IF state.blocker IS NOT NULL OR state.fingerprint IS DISTINCT FROM last.tracking THEN
        provable := false;
        RETURN NEXT;
        RETURN;
    END IF;
    SELECT coalesce(array_agg(DISTINCT s.relid) FILTER (WHERE s.kind IN ('r', 'p')), '{}'),
           coalesce(array_agg(DISTINCT s.relid) FILTER (WHERE s.kind = 'm'), '{}')
      INTO tables, matviews
      FROM "${flyway:defaultSchema}"._matviews_sources(view_oid) s;
    SELECT EXISTS (
        SELECT 1
          FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          JOIN "${flyway:defaultSchema}"._ayb_matview_refreshes up ON up.schema_name = n.nspname AND up.view_name = c.relname
         CROSS JOIN LATERAL (SELECT r.xact FROM "${flyway:defaultSchema}"._ayb_matview_refresh_runs r
                              WHERE r.registration_id = up.id AND r.status = 'success'
                              ORDER BY r.started_at DESC LIMIT 1) latest
         WHERE c.oid = ANY (matviews)
           AND (latest.xact IS NULL OR NOT pg_catalog.pg_visible_in_snapshot(latest.xact, last.snapshot)))
      INTO moved;
    IF moved THEN
        provable := false;
        RETURN NEXT;
        RETURN;
    END IF;
    provable := true;
    SELECT ch.logged_at INTO first_change
      FROM "${flyway:defaultSchema}"._matviews_changes ch
     WHERE ch.relid = ANY (tables)
       AND ch.xact >= pg_catalog.pg_snapshot_xmin(last.snapshot)
       AND NOT pg_catalog.pg_visible_in_snapshot(ch.xact, last.snapshot)
     ORDER BY ch.xact LIMIT 1;
    RETURN NEXT;
END
$$;

-- Runs: a success or a skip that kept current data moves the data timestamp (never back). A
-- scheduled refresh that failed (a job's, or a node's of a cascade a job started) counts toward
-- consecutive_failures and raises refresh-failed; at _matviews_settings.suspend_after of them in a
-- row the registration and its registered readers are suspended. A success resets the count, and
-- raises recovered when there was one. Otherwise as in V15.
CREATE OR REPLACE FUNCTION _matviews_run_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    scheduled boolean;
    prev int;
    upd record;
    threshold int;
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
            UPDATE "${flyway:defaultSchema}"._ayb_matview_refreshes
               SET last_unchanged_at = NEW.finished_at,
                   data_timestamp = greatest(data_timestamp, NEW.data_timestamp)
             WHERE id = NEW.registration_id;
        END IF;
    ELSE
        scheduled := NEW.status IN ('error', 'timeout')
                     AND (NEW.trigger = 'schedule'
                          OR (NEW.trigger = 'cascade' AND EXISTS (
                              SELECT 1 FROM "${flyway:defaultSchema}"._matviews_cascades cas
                               WHERE cas.id = NEW.cascade_id AND cas.trigger = 'schedule')));
        IF NEW.status = 'success' THEN
            SELECT reg.consecutive_failures INTO prev FROM "${flyway:defaultSchema}"._ayb_matview_refreshes reg
             WHERE reg.id = NEW.registration_id;
        END IF;
        UPDATE "${flyway:defaultSchema}"._ayb_matview_refreshes reg
           SET last_refresh_at = NEW.finished_at,
               last_refresh_duration_ms = NEW.duration_ms,
               last_refresh_status = CASE WHEN NEW.status = 'success' THEN 'success' ELSE 'error' END,
               last_refresh_error = NEW.error,
               last_success_at = CASE WHEN NEW.status = 'success' THEN NEW.finished_at ELSE reg.last_success_at END,
               -- '-infinity': a registered matview it read has no data timestamp, so neither has its data
               data_timestamp = CASE WHEN NEW.status <> 'success' THEN reg.data_timestamp
                                     WHEN NEW.data_timestamp = '-infinity' THEN NULL
                                     ELSE greatest(reg.data_timestamp, NEW.data_timestamp) END,
               consecutive_failures = CASE WHEN NEW.status = 'success' THEN 0
                                           WHEN scheduled THEN reg.consecutive_failures + 1
                                           ELSE reg.consecutive_failures END,
               current_run_id = CASE WHEN reg.current_run_id = NEW.id THEN NULL ELSE reg.current_run_id END,
               updated_at = NEW.finished_at
         WHERE reg.id = NEW.registration_id
           AND (NEW.status <> 'abandoned' OR reg.current_run_id = NEW.id)
           AND (SELECT max(later.started_at) FROM "${flyway:defaultSchema}"._ayb_matview_refresh_runs later
                 WHERE later.registration_id = NEW.registration_id
                   AND later.status NOT IN ('running', 'skipped')) <= NEW.started_at
        RETURNING reg.consecutive_failures, reg.suspended_at INTO upd;
        IF scheduled AND upd.consecutive_failures IS NOT NULL THEN
            PERFORM "${flyway:defaultSchema}"._matviews_alert('refresh-failed', NEW.registration_id, jsonb_build_object(
                'runId', NEW.id, 'status', NEW.status, 'error', left(NEW.error, 1000), 'sqlState', NEW.sqlstate,
                'consecutiveFailures', upd.consecutive_failures));
            SELECT st.suspend_after INTO threshold FROM "${flyway:defaultSchema}"._matviews_settings st;
            IF upd.suspended_at IS NULL AND coalesce(threshold, 5) > 0
               AND upd.consecutive_failures >= coalesce(threshold, 5) THEN
                PERFORM "${flyway:defaultSchema}"._matviews_suspend(NEW.registration_id,
                    upd.consecutive_failures || ' scheduled refreshes failed in a row; the last: '
                    || coalesce(left(NEW.error, 500), NEW.status));
            END IF;
        ELSIF NEW.status = 'success' AND prev > 0 AND upd.consecutive_failures IS NOT NULL THEN
            PERFORM "${flyway:defaultSchema}"._matviews_alert('recovered', NEW.registration_id, jsonb_build_object(
                'runId', NEW.id, 'failuresBefore', prev));
        END IF;
    END IF;
    RETURN NULL;
END
$$;

-- The registration as the API shows it, with its target and data timestamp.
CREATE OR REPLACE VIEW _matviews_registrations AS
SELECT reg.id, reg.schema_name, reg.view_name, reg.refresh_mode, reg.last_refresh_at, reg.last_refresh_duration_ms,
       reg.last_refresh_status, reg.last_refresh_error, reg.created_at, reg.updated_at, reg.last_success_at,
       reg.current_run_id, reg.statement_timeout_ms, reg.lock_timeout_ms, reg.max_staleness_seconds,
       st.stale, st.schedule, reg.skip_unchanged, reg.max_skip_age_seconds, reg.last_unchanged_at,
       reg.target_lag_seconds, reg.target_downstream, reg.data_timestamp, reg.target_missed_at,
       reg.target_missed_reason, reg.consecutive_failures, reg.suspended_at, reg.suspended_reason, reg.suspended_by,
       round(extract(epoch FROM statement_timestamp() - reg.data_timestamp)::numeric, 3)::float8 AS lag_seconds
  FROM _ayb_matview_refreshes reg,
       LATERAL _matviews_registration_state(reg.schema_name, reg.view_name,
                                            greatest(reg.last_success_at, reg.last_unchanged_at),
                                            reg.max_staleness_seconds) st;

-- A registration and the registered matviews it reads, at any depth through plain views and
-- other registered matviews, each with its longest distance from the root (sources first when
-- ordered by depth descending). A cycle cannot be built in PostgreSQL; the path guards anyway.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_registered_closure(root_oid oid, root_id uuid)
    RETURNS TABLE (registration_id uuid, view_oid oid, depth int) LANGUAGE sql STABLE AS $$
    WITH RECURSIVE up(reg_id, oid, depth, path) AS (
        SELECT root_id, root_oid, 0, ARRAY[root_id]
        UNION ALL
        SELECT r.id, s.relid, up.depth + 1, up.path || r.id
          FROM up
         CROSS JOIN LATERAL "${flyway:defaultSchema}"._matviews_sources(up.oid) s
          JOIN pg_catalog.pg_class c ON c.oid = s.relid
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          JOIN "${flyway:defaultSchema}"._ayb_matview_refreshes r ON r.schema_name = n.nspname AND r.view_name = c.relname
         WHERE s.kind = 'm' AND NOT r.id = ANY (up.path) AND up.depth < 64
    )
    SELECT reg_id, oid, max(depth) FROM up GROUP BY reg_id, oid
$$;

-- How long a registration's refresh is expected to take: the longest of its last 5 successes.
-- (PL/pgSQL for its cached plan, as _matviews_upstream_data_at.)
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_predicted_ms(reg_id uuid)
    RETURNS bigint LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT coalesce(max(x.duration_ms), 0)::bigint
              FROM (SELECT run.duration_ms FROM "${flyway:defaultSchema}"._ayb_matview_refresh_runs run
                     WHERE run.registration_id = reg_id AND run.status = 'success'
                     ORDER BY run.started_at DESC LIMIT 5) x);
END
$$;

-- One pass of the target keeper; every replica calls it, one at a time does the work (it holds
-- the settings row's lock), so each due view is looked at and queued once across replicas.
-- 1. Missed targets: a view whose lag passed its target, not yet recorded for this deadline, gets
--    the miss and its reason recorded (registration, its current or latest run) and returned.
-- 2. Due views (target_next_at passed, no target job queued or running), least slack first: the
--    view and the registered matviews it reads are checked, sources first; what a check proves
--    moves their data timestamps. If something changed, the start-by time is data timestamp +
--    target - predicted duration (of what must be refreshed) - margin: passed, one job is queued
--    (a cascade through its sources when it reads registered matviews), run_at being the start-by
--    time so workers take the least slack first; not yet, the view is looked at then. If nothing
--    changed, it is looked at again when its lag could next reach the target.
-- Returns the registrations queued or missed, and one row (registration_id NULL) with when the
-- keeper has something to do next.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_keep_targets(margin_ms int,
                                                                         margin_share float8, min_check_ms int,
                                                                         batch int, channel text, suspend_after int)
    RETURNS TABLE (registration_id uuid, action text, detail text, next_at timestamptz)
    LANGUAGE plpgsql AS $$
DECLARE
    now_at timestamptz := clock_timestamp();
    root record;
    node record;
    f record;
    pending boolean;
    node_pending boolean;
    has_upstream boolean;
    predicted bigint;
    budget_ms bigint;
    dt timestamptz;
    start_by timestamptz;
    why text;
    queued int := 0;
BEGIN
    -- the settings row is the keeper's baton: taken by one replica's pass, skipped by the others
    PERFORM 1 FROM "${flyway:defaultSchema}"._matviews_settings FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN; -- another replica is keeping the targets right now
    END IF;
    -- the run trigger's threshold follows the configuration of the replica keeping the targets
    UPDATE "${flyway:defaultSchema}"._matviews_settings st SET suspend_after = _matviews_keep_targets.suspend_after
     WHERE st.suspend_after IS DISTINCT FROM _matviews_keep_targets.suspend_after;

    FOR root IN
        SELECT reg.*, c.oid AS view_oid,
               (SELECT j.state FROM "${flyway:defaultSchema}"._ayb_jobs j
                 WHERE j.type = 'materialized_view_refresh' AND j.state IN ('queued', 'running')
                   AND j.payload ->> 'target' = reg.id::text LIMIT 1) AS job_state
          FROM "${flyway:defaultSchema}"._ayb_matview_refreshes reg
          JOIN pg_catalog.pg_namespace n ON n.nspname = reg.schema_name
          JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = reg.view_name AND c.relkind = 'm'
         WHERE reg.target_lag_seconds IS NOT NULL AND reg.data_timestamp IS NOT NULL AND reg.suspended_at IS NULL
           AND now_at > reg.data_timestamp + reg.target_lag_seconds * interval '1 second'
           AND (reg.target_missed_at IS NULL
                OR reg.target_missed_at < reg.data_timestamp + reg.target_lag_seconds * interval '1 second')
    LOOP
        why := CASE
            WHEN root.job_state = 'queued' THEN 'workers busy'
            WHEN EXISTS (SELECT 1 FROM "${flyway:defaultSchema}"._matviews_registered_closure(root.view_oid, root.id) cl
                           JOIN "${flyway:defaultSchema}"._ayb_matview_refreshes up ON up.id = cl.registration_id
                          WHERE cl.depth > 0 AND up.last_refresh_status = 'error') THEN 'upstream failed'
            WHEN (SELECT run.status = 'skipped' AND run.kept_run_id IS NULL
                    FROM "${flyway:defaultSchema}"._ayb_matview_refresh_runs run
                   WHERE run.registration_id = root.id ORDER BY run.started_at DESC LIMIT 1) THEN 'lock held elsewhere'
            WHEN "${flyway:defaultSchema}"._matviews_predicted_ms(root.id) >= root.target_lag_seconds * 1000::bigint
                 THEN 'predicted duration above the target'
            WHEN root.last_refresh_status = 'error' THEN 'refresh failed'
            WHEN root.job_state = 'running' THEN 'refresh took longer than predicted'
            ELSE 'scheduler late' END;
        UPDATE "${flyway:defaultSchema}"._ayb_matview_refreshes SET target_missed_at = now_at, target_missed_reason = why
         WHERE id = root.id;
        UPDATE "${flyway:defaultSchema}"._ayb_matview_refresh_runs SET target_missed = why
         WHERE id = coalesce(root.current_run_id,
                             (SELECT run.id FROM "${flyway:defaultSchema}"._ayb_matview_refresh_runs run
                               WHERE run.registration_id = root.id ORDER BY run.started_at DESC LIMIT 1));
        PERFORM "${flyway:defaultSchema}"._matviews_alert('target-missed', root.id, jsonb_build_object(
            'reason', why, 'targetLag', 'PT' || root.target_lag_seconds || 'S', 'dataTimestamp', root.data_timestamp,
            'lagSeconds', round(extract(epoch FROM now_at - root.data_timestamp)::numeric, 3)));
        registration_id := root.id; action := 'missed'; detail := why; next_at := NULL;
        RETURN NEXT;
    END LOOP;

    FOR root IN
        SELECT reg.*, c.oid AS view_oid
          FROM "${flyway:defaultSchema}"._ayb_matview_refreshes reg
          JOIN pg_catalog.pg_namespace n ON n.nspname = reg.schema_name
          JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = reg.view_name AND c.relkind = 'm'
         WHERE reg.target_lag_seconds IS NOT NULL AND reg.suspended_at IS NULL
           AND coalesce(reg.target_next_at, '-infinity') <= now_at
           AND NOT EXISTS (SELECT 1 FROM "${flyway:defaultSchema}"._ayb_jobs j
                            WHERE j.type = 'materialized_view_refresh' AND j.state IN ('queued', 'running')
                              AND j.payload ->> 'target' = reg.id::text)
         ORDER BY reg.target_next_at NULLS FIRST, reg.data_timestamp NULLS FIRST
         LIMIT batch
    LOOP
        pending := false;
        has_upstream := false;
        predicted := 0;
        FOR node IN SELECT cl.* FROM "${flyway:defaultSchema}"._matviews_registered_closure(root.view_oid, root.id) cl
                     ORDER BY cl.depth DESC, cl.registration_id
        LOOP
            has_upstream := has_upstream OR node.depth > 0;
            node_pending := true;
            SELECT * INTO f FROM "${flyway:defaultSchema}"._matviews_freshness(node.view_oid, node.registration_id);
            IF f.provable THEN
                UPDATE "${flyway:defaultSchema}"._ayb_matview_refreshes reg
                   SET data_timestamp = greatest(reg.data_timestamp,
                           "${flyway:defaultSchema}"._matviews_bounded_data_at(coalesce(f.first_change, now_at), f.upstream_at))
                 WHERE reg.id = node.registration_id;
                node_pending := f.first_change IS NOT NULL;
            END IF;
            IF node_pending THEN
                pending := true;
                predicted := predicted + "${flyway:defaultSchema}"._matviews_predicted_ms(node.registration_id);
            END IF;
        END LOOP;
        SELECT reg.data_timestamp INTO dt FROM "${flyway:defaultSchema}"._ayb_matview_refreshes reg WHERE reg.id = root.id;
        -- what may pass between the data timestamp and the start of a refresh that keeps the target
        budget_ms := root.target_lag_seconds * 1000::bigint - predicted
                     - least(margin_ms::bigint, (root.target_lag_seconds * 1000 * margin_share)::bigint);
        start_by := coalesce(dt, '-infinity'::timestamptz) + budget_ms * interval '1 millisecond';
        IF pending AND root.consecutive_failures > 0 THEN
            -- a failing view is tried again with a capped backoff, not at every pass
            start_by := greatest(start_by, root.last_refresh_at
                + least(300000, 1000 * 2 ^ least(root.consecutive_failures - 1, 20)) * interval '1 millisecond');
        END IF;
        IF pending AND start_by <= now_at THEN
            INSERT INTO "${flyway:defaultSchema}"._ayb_jobs (type, payload, run_at, max_attempts, idempotency_key)
            VALUES ('materialized_view_refresh',
                    jsonb_build_object('schema', root.schema_name, 'view_name', root.view_name, 'target', root.id::text)
                        || CASE WHEN has_upstream THEN '{"cascade": "upstream"}'::jsonb ELSE '{}'::jsonb END,
                    greatest(start_by, now_at - interval '1 day'), 1, 'target:' || root.id || ':' || now_at)
            ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING;
            UPDATE "${flyway:defaultSchema}"._ayb_matview_refreshes SET target_next_at = NULL WHERE id = root.id;
            queued := queued + 1;
            registration_id := root.id; action := 'queued'; detail := NULL; next_at := NULL;
            RETURN NEXT;
        ELSE
            UPDATE "${flyway:defaultSchema}"._ayb_matview_refreshes
               -- unchanged: looked at again after half its budget, so its lag stays under half the target
               SET target_next_at = CASE WHEN pending THEN start_by
                                         ELSE now_at + greatest(min_check_ms, budget_ms / 2) * interval '1 millisecond' END
             WHERE id = root.id;
        END IF;
    END LOOP;
    IF queued > 0 THEN
        PERFORM pg_catalog.pg_notify(channel, 'jobs');
    END IF;

    -- When there is something to do next: a view to look at, or a lag to reach its target.
    registration_id := NULL; action := 'next'; detail := NULL;
    SELECT least(
               (SELECT min(coalesce(reg.target_next_at, now_at)) FROM "${flyway:defaultSchema}"._ayb_matview_refreshes reg
                 WHERE reg.target_lag_seconds IS NOT NULL AND reg.suspended_at IS NULL
                   AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                                WHERE n.nspname = reg.schema_name AND c.relname = reg.view_name AND c.relkind = 'm')
                   AND NOT EXISTS (SELECT 1 FROM "${flyway:defaultSchema}"._ayb_jobs j
                                    WHERE j.type = 'materialized_view_refresh' AND j.state IN ('queued', 'running')
                                      AND j.payload ->> 'target' = reg.id::text)),
               (SELECT min(reg.data_timestamp + reg.target_lag_seconds * interval '1 second')
                  FROM "${flyway:defaultSchema}"._ayb_matview_refreshes reg
                 WHERE reg.target_lag_seconds IS NOT NULL AND reg.data_timestamp IS NOT NULL AND reg.suspended_at IS NULL
                   AND (reg.target_missed_at IS NULL
                        OR reg.target_missed_at < reg.data_timestamp + reg.target_lag_seconds * interval '1 second')))
      INTO next_at;
    RETURN NEXT;
END
$$;

-- The keeper's question "is a target job of this view queued or running?" from the jobs index.
CREATE INDEX IF NOT EXISTS _ayb_jobs_target ON _ayb_jobs ((payload ->> 'target'))
    WHERE type = 'materialized_view_refresh' AND state IN ('queued', 'running');
