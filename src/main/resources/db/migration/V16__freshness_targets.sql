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
    ADD COLUMN IF NOT EXISTS consecutive_failures INT NOT NULL DEFAULT 0;
ALTER TABLE "${flyway:defaultSchema}"._ayb_matview_refreshes DROP CONSTRAINT IF EXISTS _matviews_one_target;
ALTER TABLE "${flyway:defaultSchema}"._ayb_matview_refreshes
    ADD CONSTRAINT _matviews_one_target CHECK (NOT (target_downstream AND target_lag_seconds IS NOT NULL));

-- data_timestamp: what the run's data reflects (success) or what the skip proved (skipped);
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
-- NULL when it reads none.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_upstream_data_at(view_oid oid)
    RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN bool_or(up.data_timestamp IS NULL) THEN '-infinity'::timestamptz ELSE min(up.data_timestamp) END
      FROM "${flyway:defaultSchema}"._matviews_sources(view_oid) s
      JOIN pg_catalog.pg_class c ON c.oid = s.relid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      JOIN "${flyway:defaultSchema}"._ayb_matview_refreshes up ON up.schema_name = n.nspname AND up.view_name = c.relname
     WHERE s.kind = 'm'
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

-- Runs: a success or a skip that kept current data moves the data timestamp (never back); a
-- scheduled refresh that failed (a job's, or a node's of a cascade a job started) counts toward
-- consecutive_failures, any success resets it.
-- Otherwise as in V15.
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
            UPDATE "${flyway:defaultSchema}"._ayb_matview_refreshes
               SET last_unchanged_at = NEW.finished_at,
                   data_timestamp = greatest(data_timestamp, NEW.data_timestamp)
             WHERE id = NEW.registration_id;
        END IF;
    ELSE
        UPDATE "${flyway:defaultSchema}"._ayb_matview_refreshes reg
           SET last_refresh_at = NEW.finished_at,
               last_refresh_duration_ms = NEW.duration_ms,
               last_refresh_status = CASE WHEN NEW.status = 'success' THEN 'success' ELSE 'error' END,
               last_refresh_error = NEW.error,
               last_success_at = CASE WHEN NEW.status = 'success' THEN NEW.finished_at ELSE reg.last_success_at END,
               data_timestamp = CASE WHEN NEW.status = 'success' THEN greatest(reg.data_timestamp, NEW.data_timestamp)
                                     ELSE reg.data_timestamp END,
               consecutive_failures = CASE WHEN NEW.status = 'success' THEN 0
                                           WHEN NEW.status IN ('error', 'timeout')
                                                AND (NEW.trigger = 'schedule'
                                                     OR (NEW.trigger = 'cascade' AND EXISTS (
                                                         SELECT 1 FROM "${flyway:defaultSchema}"._matviews_cascades cas
                                                          WHERE cas.id = NEW.cascade_id AND cas.trigger = 'schedule')))
                                                THEN reg.consecutive_failures + 1
                                           ELSE reg.consecutive_failures END,
               current_run_id = CASE WHEN reg.current_run_id = NEW.id THEN NULL ELSE reg.current_run_id END,
               updated_at = NEW.finished_at
         WHERE reg.id = NEW.registration_id
           AND (NEW.status <> 'abandoned' OR reg.current_run_id = NEW.id)
           AND (SELECT max(later.started_at) FROM "${flyway:defaultSchema}"._ayb_matview_refresh_runs later
                 WHERE later.registration_id = NEW.registration_id
                   AND later.status NOT IN ('running', 'skipped')) <= NEW.started_at;
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
       reg.target_missed_reason, reg.consecutive_failures,
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
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_predicted_ms(reg_id uuid)
    RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT coalesce(max(x.duration_ms), 0)::bigint
      FROM (SELECT run.duration_ms FROM "${flyway:defaultSchema}"._ayb_matview_refresh_runs run
             WHERE run.registration_id = reg_id AND run.status = 'success'
             ORDER BY run.started_at DESC LIMIT 5) x
$$;

-- One pass of the target keeper; every replica calls it, one at a time does the work (the
-- transaction's advisory lock), so each due view is looked at and queued once across replicas.
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
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_keep_targets(lock_space int, lock_key int, margin_ms int,
                                                                         margin_share float8, min_check_ms int,
                                                                         batch int, channel text)
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
    IF NOT pg_catalog.pg_try_advisory_xact_lock(lock_space, lock_key) THEN
        RETURN; -- another replica is keeping the targets right now
    END IF;

    FOR root IN
        SELECT reg.*, c.oid AS view_oid,
               (SELECT j.state FROM "${flyway:defaultSchema}"._ayb_jobs j
                 WHERE j.type = 'materialized_view_refresh' AND j.state IN ('queued', 'running')
                   AND j.payload ->> 'target' = reg.id::text LIMIT 1) AS job_state
          FROM "${flyway:defaultSchema}"._ayb_matview_refreshes reg
          JOIN pg_catalog.pg_namespace n ON n.nspname = reg.schema_name
          JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = reg.view_name AND c.relkind = 'm'
         WHERE reg.target_lag_seconds IS NOT NULL AND reg.data_timestamp IS NOT NULL
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
        registration_id := root.id; action := 'missed'; detail := why; next_at := NULL;
        RETURN NEXT;
    END LOOP;

    FOR root IN
        SELECT reg.*, c.oid AS view_oid
          FROM "${flyway:defaultSchema}"._ayb_matview_refreshes reg
          JOIN pg_catalog.pg_namespace n ON n.nspname = reg.schema_name
          JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = reg.view_name AND c.relkind = 'm'
         WHERE reg.target_lag_seconds IS NOT NULL
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
                 WHERE reg.target_lag_seconds IS NOT NULL
                   AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                                WHERE n.nspname = reg.schema_name AND c.relname = reg.view_name AND c.relkind = 'm')
                   AND NOT EXISTS (SELECT 1 FROM "${flyway:defaultSchema}"._ayb_jobs j
                                    WHERE j.type = 'materialized_view_refresh' AND j.state IN ('queued', 'running')
                                      AND j.payload ->> 'target' = reg.id::text)),
               (SELECT min(reg.data_timestamp + reg.target_lag_seconds * interval '1 second')
                  FROM "${flyway:defaultSchema}"._ayb_matview_refreshes reg
                 WHERE reg.target_lag_seconds IS NOT NULL AND reg.data_timestamp IS NOT NULL
                   AND (reg.target_missed_at IS NULL
                        OR reg.target_missed_at < reg.data_timestamp + reg.target_lag_seconds * interval '1 second')))
      INTO next_at;
    RETURN NEXT;
END
$$;

-- The keeper's question "is a target job of this view queued or running?" from the jobs index.
CREATE INDEX IF NOT EXISTS _ayb_jobs_target ON _ayb_jobs ((payload ->> 'target'))
    WHERE type = 'materialized_view_refresh' AND state IN ('queued', 'running');
