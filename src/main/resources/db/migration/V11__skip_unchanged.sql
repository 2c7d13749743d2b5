-- Issue 15: skip a refresh when no source of the view changed since the start of its last
-- successful refresh, exactly.
--
-- How it is exact, in short (docs/skip-unchanged.md has the whole argument):
-- - a statement-level trigger on every source table writes one row per writing statement into
--   _matviews_changes, with the table and the writer's transaction id, in the writer's
--   transaction: a committed change always has its row, a rolled-back one never;
-- - a successful refresh records the snapshot taken before its REFRESH began (so REFRESH saw at
--   least every transaction that snapshot sees) and the fingerprint of the view's sources and
--   their triggers at its start;
-- - a refresh may be skipped only when the fingerprint is unchanged and every change row of every
--   source table is of a transaction visible in that snapshot, and every registered matview it
--   reads was last refreshed by a transaction visible in it.

ALTER TABLE "${flyway:defaultSchema}"._ayb_matview_refreshes
    ADD COLUMN IF NOT EXISTS skip_unchanged       BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS max_skip_age_seconds INT CHECK (max_skip_age_seconds BETWEEN 1 AND 31622400),
    ADD COLUMN IF NOT EXISTS last_unchanged_at    TIMESTAMPTZ;

-- snapshot: taken before REFRESH of a successful run; xact: that refresh's transaction (for the
-- views that read this one); tracking: the fingerprint of its sources when it started;
-- kept_run_id: for a skipped run, the successful run whose data it kept; horizon: the oldest
-- transaction running when the run was recorded as running, so no older than the xmin of any
-- snapshot the run takes later (compaction keeps every change row from it on while it runs).
ALTER TABLE "${flyway:defaultSchema}"._ayb_matview_refresh_runs
    ADD COLUMN IF NOT EXISTS snapshot    pg_snapshot,
    ADD COLUMN IF NOT EXISTS xact        xid8,
    ADD COLUMN IF NOT EXISTS tracking    TEXT,
    ADD COLUMN IF NOT EXISTS kept_run_id UUID,
    ADD COLUMN IF NOT EXISTS horizon     xid8;
CREATE INDEX IF NOT EXISTS _ayb_matview_refresh_runs_success
    ON "${flyway:defaultSchema}"._ayb_matview_refresh_runs (registration_id, started_at DESC) WHERE status = 'success';

-- Insert-only for writers: they never update a shared row, so they never wait for each other
-- here. No index and no once-per-transaction check: a plain heap insert is the cheapest thing a
-- writer can be asked to do (an index on it, or ON CONFLICT against a key, doubled the trigger's
-- cost). Compaction keeps the log small (a few rows per table and claimer between passes), so a
-- decision reads all of it in well under a millisecond.
CREATE TABLE IF NOT EXISTS "${flyway:defaultSchema}"._matviews_changes (
    relid OID  NOT NULL,
    xact  xid8 NOT NULL
);

-- Which registration asked for tracking on which table: a trigger goes when its last user does.
CREATE TABLE IF NOT EXISTS "${flyway:defaultSchema}"._matviews_tracked_tables (
    relid           OID  NOT NULL,
    registration_id UUID NOT NULL,
    PRIMARY KEY (relid, registration_id)
);

-- The trigger function. SECURITY DEFINER, so writers need no privilege on matviews' schema or
-- table. No SET clause (saving and restoring a setting on every call costs writers): instead
-- every name and operator in it is schema-qualified, so no writer's search_path can redirect it.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_log_change() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    INSERT INTO "${flyway:defaultSchema}"._matviews_changes (relid, xact)
    VALUES (TG_RELID, pg_catalog.pg_current_xact_id());
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION "${flyway:defaultSchema}"._matviews_log_change() FROM PUBLIC;

-- The relations a materialized view's data comes from: what its query reads, through plain views
-- at any depth, and the inheritance children and partitions of every table read. Matviews it
-- reads are sources themselves (their data is their own), not walked into.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_sources(view_oid oid)
    RETURNS TABLE (relid oid, kind "char") LANGUAGE sql STABLE AS $$
    WITH RECURSIVE walk(relid, kind) AS (
        SELECT view_oid, 'M'::"char"
        UNION
        SELECT e.relid, e.kind
          FROM walk w
          CROSS JOIN LATERAL (
              SELECT d.refobjid AS relid, c.relkind AS kind
                FROM pg_catalog.pg_rewrite rw
                JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                     AND d.objid = rw.oid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
                     AND d.refobjid <> w.relid
                JOIN pg_catalog.pg_class c ON c.oid = d.refobjid
               WHERE rw.ev_class = w.relid AND w.kind IN ('M', 'v')
              UNION ALL
              SELECT i.inhrelid, c.relkind
                FROM pg_catalog.pg_inherits i
                JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
               WHERE i.inhparent = w.relid AND w.kind IN ('r', 'p')
          ) e
    )
    SELECT relid, kind FROM walk WHERE kind <> 'M'
$$;

-- What decides whether a view's data can be known unchanged: its fingerprint (the view, the rules
-- of its query and of the plain views on the way with their versions, its tables with the state
-- and version of their change trigger and of this registration's claim on them, the matviews it
-- reads), and the first reason it can never be skipped, if any. The claim is in it because change
-- rows are kept only for the registrations that claim a table: a snapshot taken before the claim
-- may have lost rows to compaction, so a new claim must be followed by a refresh.
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
        SELECT s.relid, t.oid AS tgoid, t.tgenabled, t.xmin::text AS version, tt.xmin::text AS claimed
          FROM src s
          LEFT JOIN pg_catalog.pg_trigger t ON t.tgrelid = s.relid AND t.tgname = '_matviews_track_changes'
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

-- NULL when the view's data provably reflects every committed change of its sources as of its
-- last successful refresh (which it then names); else why it must be refreshed.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_refresh_needed(view_oid oid, reg_id uuid,
                                                                           max_skip_age_seconds int)
    RETURNS TABLE (reason text, kept_run_id uuid, kept_started_at timestamptz, fingerprint text)
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    last record;
    state record;
    populated boolean;
    why text;
    tables oid[];
    matviews oid[];
BEGIN
    -- The source walk once, for both checks below.
    SELECT coalesce(array_agg(DISTINCT s.relid) FILTER (WHERE s.kind IN ('r', 'p')), '{}'),
           coalesce(array_agg(DISTINCT s.relid) FILTER (WHERE s.kind = 'm'), '{}')
      INTO tables, matviews
      FROM "${flyway:defaultSchema}"._matviews_sources(view_oid) s;
    SELECT c.relispopulated INTO populated FROM pg_catalog.pg_class c WHERE c.oid = view_oid;
    SELECT * INTO state FROM "${flyway:defaultSchema}"._matviews_change_state(view_oid, reg_id);
    SELECT run.id, run.started_at, run.snapshot, run.tracking INTO last
      FROM "${flyway:defaultSchema}"._ayb_matview_refresh_runs run
     WHERE run.registration_id = reg_id AND run.status = 'success'
     ORDER BY run.started_at DESC LIMIT 1;
    why := CASE
        WHEN NOT coalesce(populated, false) THEN 'the view is not populated'
        WHEN state.blocker IS NOT NULL THEN 'never skipped: ' || state.blocker
        WHEN last.id IS NULL THEN 'no successful refresh to compare with'
        WHEN last.snapshot IS NULL OR last.tracking IS NULL THEN 'its last successful refresh (run ' || last.id
             || ') was made without change tracking'
        WHEN max_skip_age_seconds IS NOT NULL
             AND last.started_at < pg_catalog.statement_timestamp() - max_skip_age_seconds * interval '1 second'
             THEN 'maxSkipAge: its last successful refresh (run ' || last.id || ') started more than '
             || max_skip_age_seconds || ' s ago'
        WHEN last.tracking IS DISTINCT FROM state.fingerprint
             THEN 'its sources or their change tracking changed since run ' || last.id
        END;
    IF why IS NULL THEN
        SELECT 'source table ' || ch.relid::regclass::text || ' changed since run ' || last.id INTO why
          FROM "${flyway:defaultSchema}"._matviews_changes ch
         WHERE ch.relid = ANY (tables)
           -- Older than the snapshot's xmin is visible (or rolled back, with no row).
           AND ch.xact >= pg_catalog.pg_snapshot_xmin(last.snapshot)
           AND NOT pg_catalog.pg_visible_in_snapshot(ch.xact, last.snapshot)
         LIMIT 1;
    END IF;
    IF why IS NULL THEN
        -- A registered matview it reads: changed when its latest successful refresh is not visible.
        SELECT 'source materialized view ' || pg_catalog.quote_ident(up.schema_name) || '.'
               || pg_catalog.quote_ident(up.view_name) || ' was refreshed since run ' || last.id INTO why
          FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          JOIN "${flyway:defaultSchema}"._ayb_matview_refreshes up ON up.schema_name = n.nspname AND up.view_name = c.relname
          CROSS JOIN LATERAL (SELECT r.xact FROM "${flyway:defaultSchema}"._ayb_matview_refresh_runs r
                               WHERE r.registration_id = up.id AND r.status = 'success'
                               ORDER BY r.started_at DESC LIMIT 1) latest
         WHERE c.oid = ANY (matviews)
           AND (latest.xact IS NULL OR NOT pg_catalog.pg_visible_in_snapshot(latest.xact, last.snapshot))
         LIMIT 1;
    END IF;
    RETURN QUERY SELECT why, last.id, last.started_at, state.fingerprint;
END
$$;

-- Runs: a skip that kept a run's data counts toward staleness like a refresh (the data is as
-- current as one would have made it). Otherwise as in V6.
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
           AND NOT EXISTS (SELECT 1 FROM "${flyway:defaultSchema}"._ayb_matview_refresh_runs later
                            WHERE later.registration_id = NEW.registration_id
                              AND later.started_at > NEW.started_at
                              AND later.status NOT IN ('running', 'skipped'));
    END IF;
    RETURN NULL;
END
$$;

-- The registration as the API shows it, with the new settings; staleness counts from the later of
-- its last success and its last skip that kept current data.
CREATE OR REPLACE VIEW _matviews_registrations AS
SELECT reg.id, reg.schema_name, reg.view_name, reg.refresh_mode, reg.last_refresh_at, reg.last_refresh_duration_ms,
       reg.last_refresh_status, reg.last_refresh_error, reg.created_at, reg.updated_at, reg.last_success_at,
       reg.current_run_id, reg.statement_timeout_ms, reg.lock_timeout_ms, reg.max_staleness_seconds,
       st.stale, st.schedule, reg.skip_unchanged, reg.max_skip_age_seconds, reg.last_unchanged_at
  FROM _ayb_matview_refreshes reg,
       LATERAL _matviews_registration_state(reg.schema_name, reg.view_name,
                                            greatest(reg.last_success_at, reg.last_unchanged_at),
                                            reg.max_staleness_seconds) st;

-- Installs change tracking for a registration: the trigger on every table its view reads (at any
-- depth through plain views, partitions and inheritance children included), enabled ALWAYS so
-- that it fires under session_replication_role = replica too. One transaction: all or nothing.
-- Creating a trigger needs the TRIGGER privilege; enabling it ALWAYS needs the table's owner.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_track(view_oid oid, reg_id uuid)
    RETURNS TABLE (relid oid, created boolean) LANGUAGE plpgsql AS $$
DECLARE
    t record;
BEGIN
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
        INSERT INTO "${flyway:defaultSchema}"._matviews_tracked_tables (relid, registration_id)
        VALUES (t.relid, reg_id) ON CONFLICT DO NOTHING;
        relid := t.relid;
        RETURN NEXT;
    END LOOP;
END
$$;

-- Removes a registration's claim on its tables; a trigger no registration needs any more is
-- dropped (if its table still exists), with the table's change rows.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_untrack(reg_id uuid)
    RETURNS TABLE (relid oid, dropped boolean) LANGUAGE plpgsql AS $$
DECLARE
    t record;
BEGIN
    FOR t IN DELETE FROM "${flyway:defaultSchema}"._matviews_tracked_tables tt WHERE tt.registration_id = reg_id
             RETURNING tt.relid
    LOOP
        dropped := NOT EXISTS (SELECT 1 FROM "${flyway:defaultSchema}"._matviews_tracked_tables tt
                                WHERE tt.relid = t.relid);
        IF dropped THEN
            IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger tg WHERE tg.tgrelid = t.relid
                          AND tg.tgname = '_matviews_track_changes') THEN
                EXECUTE format('DROP TRIGGER _matviews_track_changes ON %s', t.relid::regclass);
            END IF;
            DELETE FROM "${flyway:defaultSchema}"._matviews_changes ch WHERE ch.relid = t.relid;
        END IF;
        relid := t.relid;
        RETURN NEXT;
    END LOOP;
END
$$;

-- Change rows no decision can need any more, at most batch of them, all below ceiling (the oldest
-- transaction running when the caller's pass began: rows written during a pass wait for the next,
-- so a pass ends while writers go on). A decision for a registration asks one thing of a claimed
-- table's rows: is one of them not visible in the snapshot of its last successful refresh? So,
-- of a claimed table's rows, compaction keeps:
-- - for each claimer, the first row (by xact, then ctid) its last snapshot does not see: its
--   witness that the table changed since; the others add nothing to that answer;
-- - while a claimer's refresh is running, every row from that run's horizon on: the snapshot the
--   run records when it succeeds is not known yet, but its xmin is no older than the horizon.
-- A snapshot taken after this statement's sees every row this statement can delete. Everything
-- else goes, so the log holds a few rows per table and claimer, however rarely a view is
-- refreshed. Witnesses are chosen the same way by every replica: of two concurrent passes, the
-- later one's witness is never a row the earlier one deletes.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_compact_changes(batch int, ceiling xid8)
    RETURNS int LANGUAGE sql AS $$
    WITH claim AS MATERIALIZED (
        SELECT tt.relid, tt.registration_id,
               (SELECT run.snapshot FROM "${flyway:defaultSchema}"._ayb_matview_refresh_runs run
                 WHERE run.registration_id = tt.registration_id AND run.status = 'success'
                 ORDER BY run.started_at DESC LIMIT 1) AS snapshot,
               -- ORDER BY, not min(): PostgreSQL 14 has no min(xid8).
               (SELECT run.horizon FROM "${flyway:defaultSchema}"._ayb_matview_refresh_runs run
                 WHERE run.registration_id = tt.registration_id AND run.status = 'running'
                   AND run.horizon IS NOT NULL
                 ORDER BY run.horizon LIMIT 1) AS horizon
          FROM "${flyway:defaultSchema}"._matviews_tracked_tables tt
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
              LIMIT batch))
        RETURNING 1
    )
    SELECT count(*)::int FROM gone
$$;
