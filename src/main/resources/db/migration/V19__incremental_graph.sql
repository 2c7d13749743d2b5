-- Incremental views in the dependency graph. A matview's reads are its rule's entries in
-- pg_depend; an incremental view is a table without a rule, so its reads are its plan's
-- source_oids, and the table it keeps is recorded here so the graph, cascades and suspension can
-- follow both kinds of edge.
ALTER TABLE "${flyway:defaultSchema}"._matviews_incremental ADD COLUMN IF NOT EXISTS view_oid OID;

UPDATE "${flyway:defaultSchema}"._matviews_incremental i
   SET view_oid = c.oid
  FROM "${flyway:defaultSchema}"._ayb_matview_refreshes reg
  JOIN pg_catalog.pg_namespace n ON n.nspname = reg.schema_name
  JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = reg.view_name AND c.relkind = 'r'
 WHERE reg.id = i.registration_id AND i.view_oid IS NULL;

-- Registered views that read the view, at any depth through plain views, matviews and now
-- incremental views (which read tables, among them other incremental views); otherwise as V16.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_registered_readers(view_oid oid)
    RETURNS TABLE (registration_id uuid) LANGUAGE sql STABLE AS $$
    WITH RECURSIVE down(oid, path) AS (
        SELECT $1, ARRAY[$1]
        UNION
        SELECT r.reader, down.path || r.reader
          FROM down
         CROSS JOIN LATERAL (
               SELECT rw.ev_class AS reader
                 FROM pg_catalog.pg_depend d
                 JOIN pg_catalog.pg_rewrite rw ON rw.oid = d.objid
                WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = down.oid
                  AND d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND rw.ev_class <> down.oid
               UNION ALL
               SELECT i.view_oid FROM "${flyway:defaultSchema}"._matviews_incremental i
                WHERE down.oid = ANY (i.source_oids) AND i.view_oid IS NOT NULL) r
         WHERE NOT r.reader = ANY (down.path) AND cardinality(down.path) < 64
    )
    SELECT DISTINCT reg.id
      FROM down
      JOIN pg_catalog.pg_class c ON c.oid = down.oid AND c.relkind IN ('m', 'r')
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      JOIN "${flyway:defaultSchema}"._ayb_matview_refreshes reg
        ON reg.schema_name = n.nspname AND reg.view_name = c.relname
       AND c.relkind = CASE WHEN reg.refresh_mode = 'incremental' THEN 'r' ELSE 'm' END
     WHERE down.oid <> $1
$$;

-- Freshness targets for incremental views. The keeper, the closure of registered sources and the
-- upstream data timestamp know both kinds of registered view: a matview (relkind 'm', its reads in
-- its rule) and an incremental view (the table it keeps, relkind 'r', its reads in its plan).
ALTER TABLE "${flyway:defaultSchema}"._ayb_matview_refreshes
    DROP CONSTRAINT IF EXISTS _ayb_matview_refreshes_definition_check,
    ADD CONSTRAINT _ayb_matview_refreshes_definition_check
        -- skipUnchanged does not apply to an incremental view (a refresh with nothing pending
        -- applies nothing already)
        CHECK ((refresh_mode = 'incremental') = (definition IS NOT NULL)
               AND NOT (refresh_mode = 'incremental' AND skip_unchanged));

-- The registered views a view reads directly or through plain views: matviews through rules, and
-- incremental views among the tables a matview's rule or an incremental view's plan reads.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_registered_sources(view_oid oid)
    RETURNS TABLE (registration_id uuid, relid oid, data_timestamp timestamptz)
    LANGUAGE sql STABLE AS $$
    SELECT up.id, s.relid, up.data_timestamp
      FROM (SELECT s.relid FROM "${flyway:defaultSchema}"._matviews_sources($1) s WHERE s.kind IN ('m', 'r')
            UNION
            SELECT unnest(i.source_oids) FROM "${flyway:defaultSchema}"._matviews_incremental i
             WHERE i.view_oid = $1) s
      JOIN pg_catalog.pg_class c ON c.oid = s.relid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      JOIN "${flyway:defaultSchema}"._ayb_matview_refreshes up
        ON up.schema_name = n.nspname AND up.view_name = c.relname
       AND c.relkind = CASE WHEN up.refresh_mode = 'incremental' THEN 'r' ELSE 'm' END
$$;

-- As V16, over registered sources of both kinds.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_upstream_data_at(view_oid oid)
    RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT CASE WHEN bool_or(s.data_timestamp IS NULL) THEN '-infinity'::timestamptz
                        ELSE min(s.data_timestamp) END
              FROM "${flyway:defaultSchema}"._matviews_registered_sources(view_oid) s);
END
$$;

-- As V16, over registered sources of both kinds.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_registered_closure(root_oid oid, root_id uuid)
    RETURNS TABLE (registration_id uuid, view_oid oid, depth int) LANGUAGE sql STABLE AS $$
    WITH RECURSIVE up(reg_id, oid, depth, path) AS (
        SELECT root_id, root_oid, 0, ARRAY[root_id]
        UNION ALL
        SELECT s.registration_id, s.relid, up.depth + 1, up.path || s.registration_id
          FROM up
         CROSS JOIN LATERAL "${flyway:defaultSchema}"._matviews_registered_sources(up.oid) s
         WHERE NOT s.registration_id = ANY (up.path) AND up.depth < 64
    )
    SELECT reg_id, oid, max(depth) FROM up GROUP BY reg_id, oid
$$;

-- What a check can prove about a registration's view now (see V16). An incremental view: provable
-- while capture ran unbroken since its last apply and its sources have the shape its plan was
-- made for; first_change is the first change row its last apply's snapshot does not see.
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
    inc record;
BEGIN
    upstream_at := "${flyway:defaultSchema}"._matviews_upstream_data_at(view_oid);
    SELECT i.source_oids, i.snapshot, i.applied_at, i.shape INTO inc
      FROM "${flyway:defaultSchema}"._matviews_incremental i WHERE i.registration_id = reg_id;
    IF FOUND THEN
        provable := inc.snapshot IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM "${flyway:defaultSchema}"._matviews_capture c
                             WHERE c.stopped_at IS NOT NULL OR c.deadline < pg_catalog.clock_timestamp()
                                OR c.restarted_at >= inc.applied_at)
            AND "${flyway:defaultSchema}"._matviews_source_shape(inc.source_oids) = inc.shape;
        IF provable THEN
            SELECT ch.logged_at INTO first_change
              FROM "${flyway:defaultSchema}"._matviews_changes ch
             WHERE ch.relid = ANY (inc.source_oids)
               AND ch.xact >= pg_catalog.pg_snapshot_xmin(inc.snapshot)
               AND NOT pg_catalog.pg_visible_in_snapshot(ch.xact, inc.snapshot)
             ORDER BY ch.xact LIMIT 1;
        END IF;
        RETURN NEXT;
        RETURN;
    END IF;
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

-- As V17, with incremental views among the views whose targets it keeps.
-- One pass of the target keeper; every replica calls it, one at a time does the work (it holds
-- the settings row's lock), so each due view is looked at and queued once across replicas.
-- 1. Missed targets: a view whose lag passed its target, not yet recorded for this deadline, gets
--    the miss and its reason recorded (registration, its current or latest run) and returned.
-- 2. Due views (target_next_at passed, no target job queued or running), least slack first: the
--    view and the registered matviews it reads are checked, sources first; what a check proves
--    moves their data timestamps; a source whose data timestamp is at most reuse_share of the
--    view's target old is read as it is (not refreshed for this view: the job's freshAsOf leaves
--    it out of the cascade), so a source shared by several views is refreshed once for all of them
--    rather than once for each of their deadlines. If something changed, the start-by time is data timestamp +
--    target - predicted duration (of what must be refreshed) - margin: passed, one job is queued
--    (a cascade through its sources when it reads registered matviews), run_at being the start-by
--    time so workers take the least slack first; not yet, the view is looked at then. If nothing
--    changed, it is looked at again when its lag could next reach the target.
-- Returns the registrations queued or missed, and one row (registration_id NULL) with when the
-- keeper has something to do next.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_keep_targets(margin_ms int,
                                                                         margin_share float8, min_check_ms int,
                                                                         batch int, channel text, suspend_after int,
                                                                         reuse_share float8)
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
    reuse_from timestamptz;
    node_dt timestamptz;
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
          JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = reg.view_name
                                  AND c.relkind = CASE WHEN reg.refresh_mode = 'incremental' THEN 'r' ELSE 'm' END
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
          JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = reg.view_name
                                  AND c.relkind = CASE WHEN reg.refresh_mode = 'incremental' THEN 'r' ELSE 'm' END
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
        -- A registered source whose data is at most reuse_share of the target old is read as it is,
        -- and never older than half of what the view's own budget leaves, so that reading it keeps
        -- the view's next refresh at least that far away (no refresh loop on an old source).
        budget_ms := root.target_lag_seconds * 1000::bigint - "${flyway:defaultSchema}"._matviews_predicted_ms(root.id)
                     - least(margin_ms::bigint, (root.target_lag_seconds * 1000 * margin_share)::bigint);
        reuse_from := CASE WHEN reuse_share > 0 AND budget_ms > 0
                           THEN now_at - least((root.target_lag_seconds * 1000 * reuse_share)::bigint, budget_ms / 2)
                                         * interval '1 millisecond' END;
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
            IF node_pending AND node.depth > 0 AND reuse_from IS NOT NULL THEN
                SELECT reg.data_timestamp INTO node_dt FROM "${flyway:defaultSchema}"._ayb_matview_refreshes reg
                 WHERE reg.id = node.registration_id;
                node_pending := node_dt IS NULL OR node_dt < reuse_from;
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
                        || CASE WHEN has_upstream THEN '{"cascade": "upstream"}'::jsonb ELSE '{}'::jsonb END
                        || CASE WHEN has_upstream AND reuse_from IS NOT NULL
                                THEN jsonb_build_object('freshAsOf', reuse_from) ELSE '{}'::jsonb END,
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
                                WHERE n.nspname = reg.schema_name AND c.relname = reg.view_name
                                  AND c.relkind = CASE WHEN reg.refresh_mode = 'incremental' THEN 'r' ELSE 'm' END)
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

-- As V18, with the statement prepared per session and not run when nothing is pending (below). One refresh of an incremental view, within the refresh's transaction (the caller holds the
-- view's lock): checks its sources, runs its statement (which applies the pending changes, or
-- rebuilds when it must, in one snapshot) and records what it did on the run. A source dropped
-- or recreated, or a column it reads that changed type, is an error that changes nothing: the
-- capture of the old table is gone, so no data from here on could be trusted.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_apply(reg_id uuid, run_id uuid, rebuild_share float8)
    RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    inc record;
    now_shape jsonb;
    problem text;
    res record;
    reason text;
    stmt text := '_matviews_apply_' || pg_catalog.replace(reg_id::text, '-', '');
    cache_mode text;
BEGIN
    SELECT * INTO inc FROM "${flyway:defaultSchema}"._matviews_incremental i WHERE i.registration_id = reg_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'registration % has no incremental maintenance plan', reg_id USING ERRCODE = '55000';
    END IF;
    now_shape := "${flyway:defaultSchema}"._matviews_source_shape(inc.source_oids);
    SELECT string_agg(s.key, ', ') INTO problem FROM jsonb_each(inc.shape) s WHERE NOT now_shape ? s.key;
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION 'a source table of this incremental view was dropped or recreated (oid %); unregister it and register it again', problem
            USING ERRCODE = '55000';
    END IF;
    SELECT string_agg(format('%s.%s (%s, now %s)', s.key::oid::regclass, a.key, a.value, now_shape -> s.key ->> a.key), ', ')
      INTO problem
      FROM jsonb_each(inc.shape) s CROSS JOIN LATERAL jsonb_each_text(s.value) a
     WHERE now_shape -> s.key ? a.key AND now_shape -> s.key ->> a.key <> a.value;
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION 'a column of a source table changed type: %; unregister the incremental view and register it again', problem
            USING ERRCODE = '55000';
    END IF;
    -- Nothing pending and nothing that forces a rebuild: the statement is not run at all, so its
    -- INSERT, UPDATE and DELETE do not fire the view table's statement triggers (a matview reading
    -- it with skipUnchanged would see a change that is none). The check and the snapshot recorded
    -- are one statement's, so a change committed meanwhile is left for the next refresh.
    SELECT pg_catalog.pg_current_snapshot()::text AS snap, NULL::text AS why, 0::bigint AS change_rows,
           0::bigint AS touched
      INTO res
     WHERE inc.snapshot IS NOT NULL AND now_shape = inc.shape
       AND NOT EXISTS (SELECT 1 FROM "${flyway:defaultSchema}"._matviews_capture c
                        WHERE c.stopped_at IS NOT NULL OR c.deadline < pg_catalog.clock_timestamp()
                           OR c.restarted_at >= inc.applied_at)
       AND NOT EXISTS (SELECT 1 FROM "${flyway:defaultSchema}"._matviews_changes ch
                        WHERE ch.relid = ANY (inc.source_oids)
                          AND ch.xact >= pg_catalog.pg_snapshot_xmin(inc.snapshot)
                          AND NOT pg_catalog.pg_visible_in_snapshot(ch.xact, inc.snapshot));
    IF NOT FOUND THEN
    -- No JIT: the statement's estimated cost is its never-run rebuild branch's, and compiling for it
    -- took a second of a refresh that does milliseconds of work (measured, docs/benchmarks.md).
    PERFORM pg_catalog.set_config('jit', 'off', true);
    -- Prepared once per session and planned once (a generic plan: its parameters change no
    -- estimate, and what runs is decided inside the statement), where EXECUTE planned the whole
    -- statement at every refresh: 5-6 ms of a 14 ms refresh (docs/benchmarks.md, issue 28). A
    -- prepared statement survives its transaction's rollback and lives as long as the session;
    -- PostgreSQL plans it again after DDL on what it reads.
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_prepared_statements p WHERE p.name = stmt) THEN
        EXECUTE pg_catalog.format('PREPARE %I (pg_catalog.pg_snapshot, pg_catalog.float8, pg_catalog.timestamptz,'
                                  ' boolean) AS %s', stmt, inc.apply_sql);
    END IF;
    cache_mode := pg_catalog.current_setting('plan_cache_mode');
    PERFORM pg_catalog.set_config('plan_cache_mode', 'force_generic_plan', true);
    EXECUTE pg_catalog.format('EXECUTE %I (%L, %L, %L, %L)', stmt, inc.snapshot, rebuild_share, inc.applied_at,
                              now_shape <> inc.shape) INTO res;
    PERFORM pg_catalog.set_config('plan_cache_mode', cache_mode, true);
    END IF;
    UPDATE "${flyway:defaultSchema}"._matviews_incremental
       SET snapshot = res.snap::pg_snapshot, applied_at = now(), shape = now_shape
     WHERE registration_id = reg_id;
    reason := CASE WHEN res.why IS NULL
                   THEN format('incremental: applied %s change rows, touched %s view rows', res.change_rows, res.touched)
                   ELSE format('full: %s; wrote %s view rows', res.why, res.touched) END;
    UPDATE "${flyway:defaultSchema}"._ayb_matview_refresh_runs run
       SET mode_reason = reason, change_rows = res.change_rows, rows_touched = res.touched
     WHERE run.id = run_id;
    RETURN reason;
END
$$;
