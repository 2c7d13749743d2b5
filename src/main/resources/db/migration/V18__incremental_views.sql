-- Issue 28: incremental views. A table matviews creates from a definition and keeps current by
-- applying only the changes its source tables had since its last refresh (docs/incremental.md).
--
-- Capture is the change log of skipUnchanged (V11, bounded by V14), one mechanism: a table that
-- an incremental view reads gets statement-level triggers with transition tables that append each
-- changed row's image (an update as its old and new images) to _matviews_changes, with the
-- writer's transaction id; TRUNCATE appends a marker row. skipUnchanged's decisions read the same
-- rows (relid, xact), so a table read by both pays one append per statement.

ALTER TABLE "${flyway:defaultSchema}"._ayb_matview_refreshes ADD COLUMN IF NOT EXISTS definition TEXT;
DO $$
DECLARE
    own CONSTANT text := '${flyway:defaultSchema}';
    c record;
BEGIN
    FOR c IN SELECT con.conname
               FROM pg_catalog.pg_constraint con
               JOIN pg_catalog.pg_class t ON t.oid = con.conrelid
               JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
              WHERE n.nspname = own AND t.relname = '_ayb_matview_refreshes' AND con.contype = 'c'
                AND pg_catalog.pg_get_constraintdef(con.oid) LIKE '%refresh_mode%'
    LOOP
        EXECUTE format('ALTER TABLE %I._ayb_matview_refreshes DROP CONSTRAINT %I', own, c.conname);
    END LOOP;
END
$$;
ALTER TABLE "${flyway:defaultSchema}"._ayb_matview_refreshes
    ADD CONSTRAINT _ayb_matview_refreshes_refresh_mode_check
        CHECK (refresh_mode IN ('standard', 'concurrent', 'auto', 'incremental')),
    ADD CONSTRAINT _ayb_matview_refreshes_definition_check
        -- skipUnchanged does not apply to an incremental view; freshness targets are not kept for one yet
        CHECK ((refresh_mode = 'incremental') = (definition IS NOT NULL)
               AND NOT (refresh_mode = 'incremental'
                        AND (skip_unchanged OR target_lag_seconds IS NOT NULL OR target_downstream)));

-- What an incremental run did: the change rows it applied (or found pending, for a full one) and
-- the view rows it wrote or deleted. Null for other runs.
ALTER TABLE "${flyway:defaultSchema}"._ayb_matview_refresh_runs
    ADD COLUMN IF NOT EXISTS change_rows  BIGINT,
    ADD COLUMN IF NOT EXISTS rows_touched BIGINT;

-- op: 'i' an inserted row image, 'd' a deleted one, 't' a TRUNCATE; NULL a statement of a table
-- tracked for skipUnchanged only (no image).
ALTER TABLE "${flyway:defaultSchema}"._matviews_changes
    ADD COLUMN IF NOT EXISTS op "char",
    ADD COLUMN IF NOT EXISTS "row" JSONB;

-- Turning change tracking on after capture stopped empties the log: incremental views rebuild.
ALTER TABLE "${flyway:defaultSchema}"._matviews_capture ADD COLUMN IF NOT EXISTS restarted_at TIMESTAMPTZ;

-- An incremental view's maintenance: the tables it reads (oids), their columns when the plan was
-- made, the one statement that applies pending changes or rebuilds (docs/incremental.md), and the
-- snapshot of its last apply: every change row of a transaction that snapshot does not see is
-- pending.
CREATE TABLE IF NOT EXISTS "${flyway:defaultSchema}"._matviews_incremental (
    -- no foreign key: unregistering deletes it itself, to learn which tables' capture to change
    registration_id UUID PRIMARY KEY,
    source_oids     OID[] NOT NULL,
    shape           JSONB NOT NULL,
    apply_sql       TEXT NOT NULL,
    snapshot        pg_snapshot,
    applied_at      TIMESTAMPTZ
);

-- Statement triggers of a tracked table, now also of TRUNCATE marked as such.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_log_change() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    cap record;
BEGIN
    SELECT c.deadline, c.max_bytes, c.stopped_at, c.log_oid INTO cap FROM "${flyway:defaultSchema}"._matviews_capture c;
    IF cap.stopped_at IS NOT NULL OR pg_catalog.timestamptz_gt(pg_catalog.statement_timestamp(), cap.deadline) THEN
        RETURN NULL;
    END IF;
    IF pg_catalog.float8lt(pg_catalog.random(), 0.01::float8)
       AND pg_catalog.int8gt(pg_catalog.pg_relation_size(cap.log_oid), cap.max_bytes) THEN
        IF pg_catalog.pg_try_advisory_xact_lock(7883392736172093506) THEN
            UPDATE "${flyway:defaultSchema}"._matviews_capture
               SET stopped_at = pg_catalog.statement_timestamp(),
                   stop_reason = 'the change log grew past matviews.change-tracking.max-log-size'
             WHERE stopped_at IS NULL;
        END IF;
        RETURN NULL;
    END IF;
    INSERT INTO "${flyway:defaultSchema}"._matviews_changes (relid, xact, op)
    VALUES (TG_RELID, pg_catalog.pg_current_xact_id(), CASE WHEN TG_OP OPERATOR(pg_catalog.=) 'TRUNCATE' THEN 't' END);
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION "${flyway:defaultSchema}"._matviews_log_change() FROM PUBLIC;

-- The row images of a statement, from its transition tables: one INSERT per statement, however
-- many rows and views. Bounded and search_path-proof as _matviews_log_change is. A row is kept
-- as jsonb, so a column added or dropped on the table never breaks a writer.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_log_rows() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER AS $$
-- the statements below read the writer's table: its columns never shadow these variables
#variable_conflict use_variable
DECLARE
    cap record;
    xact_id xid8;
BEGIN
    SELECT c.deadline, c.max_bytes, c.stopped_at, c.log_oid INTO cap FROM "${flyway:defaultSchema}"._matviews_capture c;
    IF cap.stopped_at IS NOT NULL OR pg_catalog.timestamptz_gt(pg_catalog.statement_timestamp(), cap.deadline) THEN
        RETURN NULL;
    END IF;
    IF pg_catalog.float8lt(pg_catalog.random(), 0.01::float8)
       AND pg_catalog.int8gt(pg_catalog.pg_relation_size(cap.log_oid), cap.max_bytes) THEN
        IF pg_catalog.pg_try_advisory_xact_lock(7883392736172093506) THEN
            UPDATE "${flyway:defaultSchema}"._matviews_capture
               SET stopped_at = pg_catalog.statement_timestamp(),
                   stop_reason = 'the change log grew past matviews.change-tracking.max-log-size'
             WHERE stopped_at IS NULL;
        END IF;
        RETURN NULL;
    END IF;
    xact_id := pg_catalog.pg_current_xact_id();
    IF TG_OP OPERATOR(pg_catalog.=) 'INSERT' THEN
        INSERT INTO "${flyway:defaultSchema}"._matviews_changes (relid, xact, op, "row")
        SELECT TG_RELID, xact_id, 'i', pg_catalog.to_jsonb(n.*) FROM matviews_new_rows n;
    ELSIF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
        INSERT INTO "${flyway:defaultSchema}"._matviews_changes (relid, xact, op, "row")
        SELECT TG_RELID, xact_id, 'd', pg_catalog.to_jsonb(o.*) FROM matviews_old_rows o;
    ELSE
        INSERT INTO "${flyway:defaultSchema}"._matviews_changes (relid, xact, op, "row")
        SELECT TG_RELID, xact_id, 'd', pg_catalog.to_jsonb(o.*) FROM matviews_old_rows o
        UNION ALL
        SELECT TG_RELID, xact_id, 'i', pg_catalog.to_jsonb(n.*) FROM matviews_new_rows n;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION "${flyway:defaultSchema}"._matviews_log_rows() FROM PUBLIC;

-- Makes a table's capture triggers what its claims need: row images while an incremental view
-- reads it (three triggers with transition tables, and _matviews_track_changes for TRUNCATE
-- only), one statement trigger for every event while only skipUnchanged claims it, nothing
-- (and none of its change rows) once nobody does. Changing them changes the trigger versions in
-- skipUnchanged's fingerprint, so its views refresh once in full after a switch.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_sync_capture(rel oid) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    own CONSTANT text := '${flyway:defaultSchema}';
    rows_needed boolean;
    any_needed boolean;
    combined int;
    t record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = rel) THEN
        DELETE FROM "${flyway:defaultSchema}"._matviews_changes ch WHERE ch.relid = rel;
        RETURN 'gone';
    END IF;
    rows_needed := EXISTS (SELECT 1 FROM "${flyway:defaultSchema}"._matviews_incremental i WHERE rel = ANY (i.source_oids));
    any_needed := rows_needed OR EXISTS (SELECT 1 FROM "${flyway:defaultSchema}"._matviews_tracked_tables tt
                                          WHERE tt.relid = rel);
    SELECT tg.tgtype INTO combined FROM pg_catalog.pg_trigger tg
     WHERE tg.tgrelid = rel AND tg.tgname = '_matviews_track_changes';
    -- tgtype bit 4: INSERT. The statement trigger for every event has it, the TRUNCATE-only one not.
    IF combined IS NOT NULL AND ((combined & 4) <> 0) = rows_needed OR combined IS NOT NULL AND NOT any_needed THEN
        EXECUTE format('DROP TRIGGER _matviews_track_changes ON %s', rel::regclass);
        combined := NULL;
    END IF;
    FOR t IN SELECT * FROM (VALUES ('_matviews_track_inserts', 'INSERT', 'NEW TABLE AS matviews_new_rows'),
                                   ('_matviews_track_updates', 'UPDATE', 'OLD TABLE AS matviews_old_rows NEW TABLE AS matviews_new_rows'),
                                   ('_matviews_track_deletes', 'DELETE', 'OLD TABLE AS matviews_old_rows')) v(name, event, refs)
    LOOP
        IF rows_needed AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger tg WHERE tg.tgrelid = rel AND tg.tgname = t.name) THEN
            EXECUTE format('CREATE TRIGGER %I AFTER %s ON %s REFERENCING %s FOR EACH STATEMENT EXECUTE FUNCTION %I._matviews_log_rows()',
                           t.name, t.event, rel::regclass, t.refs, own);
        ELSIF NOT rows_needed AND EXISTS (SELECT 1 FROM pg_catalog.pg_trigger tg WHERE tg.tgrelid = rel AND tg.tgname = t.name) THEN
            EXECUTE format('DROP TRIGGER %I ON %s', t.name, rel::regclass);
        END IF;
    END LOOP;
    IF any_needed AND combined IS NULL THEN
        EXECUTE format('CREATE TRIGGER _matviews_track_changes AFTER %s ON %s FOR EACH STATEMENT EXECUTE FUNCTION %I._matviews_log_change()',
                       CASE WHEN rows_needed THEN 'TRUNCATE' ELSE 'INSERT OR UPDATE OR DELETE OR TRUNCATE' END,
                       rel::regclass, own);
    END IF;
    FOR t IN SELECT tg.tgname FROM pg_catalog.pg_trigger tg
              WHERE tg.tgrelid = rel AND tg.tgname LIKE '\_matviews\_track\_%' AND tg.tgenabled <> 'A'
    LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', rel::regclass, t.tgname);
    END LOOP;
    IF NOT any_needed THEN
        DELETE FROM "${flyway:defaultSchema}"._matviews_changes ch WHERE ch.relid = rel;
        RETURN 'none';
    END IF;
    RETURN CASE WHEN rows_needed THEN 'rows' ELSE 'statements' END;
END
$$;

-- Removes a registration's claims; each table's capture becomes what its other claims need.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_untrack(reg_id uuid)
    RETURNS TABLE (relid oid, dropped boolean) LANGUAGE plpgsql AS $$
DECLARE
    t record;
BEGIN
    FOR t IN DELETE FROM "${flyway:defaultSchema}"._matviews_tracked_tables tt WHERE tt.registration_id = reg_id
             RETURNING tt.relid
    LOOP
        dropped := "${flyway:defaultSchema}"._matviews_sync_capture(t.relid) IN ('none', 'gone');
        relid := t.relid;
        RETURN NEXT;
    END LOOP;
END
$$;

-- The columns of each source table (oid → column → type), to know when a source changed.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_source_shape(oids oid[]) RETURNS jsonb
    LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_object_agg(c.oid::text,
               (SELECT coalesce(jsonb_object_agg(a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)), '{}')
                  FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)),
           '{}')
      FROM pg_catalog.pg_class c WHERE c.oid = ANY (oids)
$$;

-- One refresh of an incremental view, within the refresh's transaction (the caller holds the
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
    -- No JIT: the statement's estimated cost is its never-run rebuild branch's, and compiling for it
    -- took a second of a refresh that does milliseconds of work (measured, docs/benchmarks.md).
    PERFORM pg_catalog.set_config('jit', 'off', true);
    EXECUTE inc.apply_sql INTO res USING inc.snapshot, rebuild_share, inc.applied_at, now_shape <> inc.shape;
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

-- Compaction keeps, besides what skipUnchanged needs (V11), every row an incremental view has
-- not applied yet: of a table it reads, by a transaction its last apply's snapshot does not see.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_compact_changes(batch int, ceiling xid8)
    RETURNS int LANGUAGE sql AS $$
    WITH claim AS MATERIALIZED (
        SELECT tt.relid, tt.registration_id,
               (SELECT run.snapshot FROM "${flyway:defaultSchema}"._ayb_matview_refresh_runs run
                 WHERE run.registration_id = tt.registration_id AND run.status = 'success'
                 ORDER BY run.started_at DESC LIMIT 1) AS snapshot,
               (SELECT run.horizon FROM "${flyway:defaultSchema}"._ayb_matview_refresh_runs run
                 WHERE run.registration_id = tt.registration_id AND run.status = 'running'
                   AND run.horizon IS NOT NULL
                 ORDER BY run.horizon LIMIT 1) AS horizon
          FROM "${flyway:defaultSchema}"._matviews_tracked_tables tt
    ), inc AS MATERIALIZED (
        SELECT i.source_oids, i.snapshot FROM "${flyway:defaultSchema}"._matviews_incremental i
    ), log AS MATERIALIZED (
        SELECT ch.ctid, ch.relid, ch.xact FROM "${flyway:defaultSchema}"._matviews_changes ch
         WHERE ch.xact < ceiling
    ), witness AS (
        SELECT DISTINCT ON (c.relid, c.registration_id) l.ctid
          FROM claim c JOIN log l ON l.relid = c.relid
         WHERE c.snapshot IS NOT NULL AND NOT pg_catalog.pg_visible_in_snapshot(l.xact, c.snapshot)
         ORDER BY c.relid, c.registration_id, l.xact, l.ctid
    ), gone AS (
        DELETE FROM "${flyway:defaultSchema}"._matviews_changes
         WHERE ctid = ANY (ARRAY(
             SELECT l.ctid FROM log l
              WHERE NOT EXISTS (SELECT 1 FROM witness w WHERE w.ctid = l.ctid)
                AND NOT EXISTS (SELECT 1 FROM claim c WHERE c.relid = l.relid AND l.xact >= c.horizon)
                AND NOT EXISTS (SELECT 1 FROM inc i WHERE l.relid = ANY (i.source_oids)
                                   AND (i.snapshot IS NULL OR NOT pg_catalog.pg_visible_in_snapshot(l.xact, i.snapshot)))
              LIMIT batch))
        RETURNING 1
    )
    SELECT count(*)::int FROM gone
$$;

-- The registration as the API shows it, now with its definition.
CREATE OR REPLACE VIEW _matviews_registrations AS
SELECT reg.id, reg.schema_name, reg.view_name, reg.refresh_mode, reg.last_refresh_at, reg.last_refresh_duration_ms,
       reg.last_refresh_status, reg.last_refresh_error, reg.created_at, reg.updated_at, reg.last_success_at,
       reg.current_run_id, reg.statement_timeout_ms, reg.lock_timeout_ms, reg.max_staleness_seconds,
       st.stale, st.schedule, reg.skip_unchanged, reg.max_skip_age_seconds, reg.last_unchanged_at,
       reg.target_lag_seconds, reg.target_downstream, reg.data_timestamp, reg.target_missed_at,
       reg.target_missed_reason, reg.consecutive_failures, reg.suspended_at, reg.suspended_reason, reg.suspended_by,
       round(extract(epoch FROM statement_timestamp() - reg.data_timestamp)::numeric, 3)::float8 AS lag_seconds,
       reg.definition
  FROM _ayb_matview_refreshes reg,
       LATERAL _matviews_registration_state(reg.schema_name, reg.view_name,
                                            greatest(reg.last_success_at, reg.last_unchanged_at),
                                            reg.max_staleness_seconds) st;

-- skipUnchanged's fingerprint and blockers read every capture trigger of a table (a table read by
-- an incremental view has four); otherwise as V14.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_change_state(view_oid oid, reg_id uuid)
    RETURNS TABLE (fingerprint text, blocker text) LANGUAGE plpgsql STABLE AS $$
DECLARE
    src_oids oid[];
BEGIN
    SELECT coalesce(array_agg(DISTINCT s.relid), '{}') INTO src_oids FROM "${flyway:defaultSchema}"._matviews_sources(view_oid) s;
    RETURN QUERY
    WITH src AS (
        SELECT c.oid AS relid, c.relkind AS kind, n.nspname, c.relname
          FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.oid = ANY (src_oids)
    ), rules AS (
        SELECT rw.oid, rw.xmin::text AS version, rw.ev_action::text AS tree
          FROM pg_catalog.pg_rewrite rw
         WHERE rw.ev_class = view_oid OR rw.ev_class IN (SELECT s.relid FROM src s WHERE s.kind = 'v')
    ), called AS (
        SELECT DISTINCT p.oid, p.proname::text AS proname, p.provolatile
          FROM rules r
         CROSS JOIN LATERAL pg_catalog.regexp_matches(r.tree, ':(funcid|aggfnoid|winfnoid|opno) (\d+)', 'g') m
          JOIN pg_catalog.pg_proc p ON p.oid = CASE WHEN m[1] = 'opno'
                THEN (SELECT o.oprcode::oid FROM pg_catalog.pg_operator o WHERE o.oid = m[2]::oid)
                ELSE m[2]::oid END
         WHERE p.provolatile <> 'i'
    ), tables AS (
        SELECT s.relid, t.oid AS tgoid, t.tgenabled, t.xmin::text AS version, tt.xmin::text AS claimed,
               tt.interrupted_at
          FROM src s
          -- every capture trigger of the table: one for statements, or four for row images (V18)
          LEFT JOIN LATERAL (
              SELECT min(tg.oid) AS oid,
                     CASE WHEN bool_and(tg.tgenabled = 'A') THEN 'A' ELSE 'D' END::"char" AS tgenabled,
                     string_agg(tg.tgname || '@' || tg.xmin::text, ';' ORDER BY tg.tgname) AS xmin
                FROM pg_catalog.pg_trigger tg
               WHERE tg.tgrelid = s.relid AND tg.tgname LIKE '\_matviews\_track\_%'
              HAVING count(*) > 0
          ) t ON true
          LEFT JOIN "${flyway:defaultSchema}"._matviews_tracked_tables tt
                 ON tt.relid = s.relid AND tt.registration_id = reg_id
         WHERE s.kind IN ('r', 'p')
    )
    SELECT view_oid::text
           || '|' || coalesce((SELECT string_agg(r.oid::text || '@' || r.version, ',' ORDER BY r.oid) FROM rules r), '')
           || '|' || coalesce((SELECT string_agg(t.relid::text || ':' || coalesce(t.tgenabled::text || '@' || t.version, 'none')
                                                 || '/' || coalesce(t.claimed, 'unclaimed'),
                                                 ',' ORDER BY t.relid) FROM tables t), '')
           || '|' || coalesce((SELECT string_agg(s.relid::text, ',' ORDER BY s.relid) FROM src s WHERE s.kind = 'm'), ''),
           coalesce(
               (SELECT 'change capture stopped at ' || coalesce(cap.stopped_at, cap.deadline)::text || ' (' || coalesce(cap.stop_reason, 'no replica of matviews compacted the change log in time')
                       || '); turn change tracking on again'
                  FROM "${flyway:defaultSchema}"._matviews_capture cap
                 WHERE cap.stopped_at IS NOT NULL OR cap.deadline < pg_catalog.statement_timestamp()),
               (SELECT 'change capture of ' || t.relid::regclass::text || ' was stopped at ' || t.interrupted_at::text
                       || ' and changes since may be missing; turn change tracking on again'
                  FROM tables t WHERE t.interrupted_at IS NOT NULL AND t.claimed IS NOT NULL ORDER BY 1 LIMIT 1),
               (SELECT 'reads foreign table ' || pg_catalog.quote_ident(s.nspname) || '.' || pg_catalog.quote_ident(s.relname)
                  FROM src s WHERE s.kind = 'f' ORDER BY 1 LIMIT 1),
               (SELECT 'uses ' || CASE WHEN bool_or(c.provolatile = 'v') THEN 'volatile' ELSE 'stable' END
                       || ' function' || CASE WHEN count(DISTINCT c.proname) FILTER (WHERE c.provolatile = min_v.v) > 1
                                              THEN 's ' ELSE ' ' END
                       || string_agg(DISTINCT c.proname || '()', ', ') FILTER (WHERE c.provolatile = min_v.v)
                  FROM called c, (SELECT CASE WHEN bool_or(provolatile = 'v') THEN 'v'::"char" ELSE 's'::"char" END AS v
                                    FROM called) min_v
                 HAVING count(*) > 0),
               (SELECT 'uses a SQL value function such as CURRENT_DATE, CURRENT_TIMESTAMP or CURRENT_USER'
                  FROM rules r WHERE r.tree LIKE '%{SQLVALUEFUNCTION%' LIMIT 1),
               (SELECT 'reads sequence ' || pg_catalog.quote_ident(s.nspname) || '.' || pg_catalog.quote_ident(s.relname)
                  FROM src s WHERE s.kind = 'S' ORDER BY 1 LIMIT 1),
               (SELECT 'reads materialized view ' || pg_catalog.quote_ident(s.nspname) || '.'
                       || pg_catalog.quote_ident(s.relname) || ', which is not registered (its refreshes are unknown)'
                  FROM src s
                 WHERE s.kind = 'm' AND NOT EXISTS (SELECT 1 FROM "${flyway:defaultSchema}"._ayb_matview_refreshes reg
                                                    WHERE reg.schema_name = s.nspname AND reg.view_name = s.relname)
                 ORDER BY 1 LIMIT 1),
               (SELECT 'source table ' || t.relid::regclass::text || ' has no change tracking'
                  FROM tables t WHERE t.tgoid IS NULL OR t.claimed IS NULL ORDER BY 1 LIMIT 1),
               (SELECT 'change tracking on ' || t.relid::regclass::text || ' is not enabled (ALWAYS)'
                  FROM tables t WHERE t.tgenabled <> 'A' ORDER BY 1 LIMIT 1));
END
$$;

-- Turning tracking on after capture stopped also records the restart, which makes incremental
-- views rebuild (the log was emptied); otherwise as V14.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_track(view_oid oid, reg_id uuid)
    RETURNS TABLE (relid oid, created boolean) LANGUAGE plpgsql AS $$
DECLARE
    t record;
BEGIN
    -- Turning tracking on restarts a capture that was stopped: every claim is marked interrupted
    -- (its views are not skipped until tracking is turned on for them again), the log is emptied
    -- (no decision can rest on it any more), and the capture runs again. TRUNCATE, not DELETE: the
    -- size bound reads the file's length, which a DELETE would leave as it was.
    IF EXISTS (SELECT 1 FROM "${flyway:defaultSchema}"._matviews_capture cap
                WHERE cap.stopped_at IS NOT NULL OR cap.deadline < pg_catalog.statement_timestamp()) THEN
        UPDATE "${flyway:defaultSchema}"._matviews_tracked_tables tt
           SET interrupted_at = coalesce(tt.interrupted_at, cap.stopped_at, cap.deadline)
          FROM "${flyway:defaultSchema}"._matviews_capture cap;
        TRUNCATE "${flyway:defaultSchema}"._matviews_changes;
        UPDATE "${flyway:defaultSchema}"._matviews_capture
           SET stopped_at = NULL, stop_reason = NULL, heartbeat_at = pg_catalog.statement_timestamp(),
               restarted_at = pg_catalog.statement_timestamp(),
               deadline = pg_catalog.statement_timestamp() + max_age_seconds * interval '1 second';
    END IF;
    FOR t IN SELECT DISTINCT s.relid FROM "${flyway:defaultSchema}"._matviews_sources(view_oid) s
              WHERE s.kind IN ('r', 'p') ORDER BY s.relid
    LOOP
        created := NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger tg
                                WHERE tg.tgrelid = t.relid AND tg.tgname = '_matviews_track_changes');
        IF created THEN
            EXECUTE format('CREATE TRIGGER _matviews_track_changes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE'
                           ' ON %s FOR EACH STATEMENT EXECUTE FUNCTION %I._matviews_log_change()',
                           t.relid::regclass, '${flyway:defaultSchema}');
        END IF;
        IF created OR EXISTS (SELECT 1 FROM pg_catalog.pg_trigger tg WHERE tg.tgrelid = t.relid
                                 AND tg.tgname = '_matviews_track_changes' AND tg.tgenabled <> 'A') THEN
            EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER _matviews_track_changes', t.relid::regclass);
        END IF;
        INSERT INTO "${flyway:defaultSchema}"._matviews_tracked_tables AS tt (relid, registration_id)
        VALUES (t.relid, reg_id)
        ON CONFLICT ON CONSTRAINT _matviews_tracked_tables_pkey DO UPDATE SET interrupted_at = NULL
            WHERE tt.interrupted_at IS NOT NULL;
        relid := t.relid;
        RETURN NEXT;
    END LOOP;
END
$$;
