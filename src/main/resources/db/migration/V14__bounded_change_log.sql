-- Issue 25, item 4: a stopped service does not leave a growing log in the application's database.
--
-- While no replica runs, nothing compacts the change log, and every writing statement on a tracked
-- table still adds a row. As PostgreSQL bounds a forgotten replication slot (max_slot_wal_keep_size),
-- capture stops past a configured age or size:
-- - every compaction pass of a replica is a heartbeat: it moves the capture's deadline to now +
--   matviews.change-tracking.max-log-age; a writer past the deadline logs nothing (no replica has
--   been compacting), and a writer that finds the log over max-log-size (checked on one statement in
--   a hundred, the size being a file length) stops the capture;
-- - a replica that comes back finds the deadline passed and records the stop;
-- - while capture is stopped, and for every claim it interrupted, the views reading those tables are
--   not skipped (they are refreshed in full), saying why, until change tracking is turned on again
--   (POST .../change-tracking), which restarts the capture with an empty log.
CREATE TABLE IF NOT EXISTS "${flyway:defaultSchema}"._matviews_capture (
    id               BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
    heartbeat_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    deadline         TIMESTAMPTZ NOT NULL DEFAULT now() + interval '6 hours',
    max_age_seconds  BIGINT NOT NULL DEFAULT 21600,
    max_bytes        BIGINT NOT NULL DEFAULT 1073741824,
    stopped_at       TIMESTAMPTZ,
    stop_reason      TEXT,
    log_oid          OID NOT NULL
);
INSERT INTO "${flyway:defaultSchema}"._matviews_capture (log_oid)
VALUES ('"${flyway:defaultSchema}"._matviews_changes'::regclass) ON CONFLICT (id) DO NOTHING;

-- When a change was logged (the writer's transaction start): the log's oldest row, for metrics.
ALTER TABLE "${flyway:defaultSchema}"._matviews_changes
    ADD COLUMN IF NOT EXISTS logged_at TIMESTAMPTZ NOT NULL DEFAULT now();
-- Set on a claim when the capture stopped after it: its view is not skipped until it is claimed again.
ALTER TABLE "${flyway:defaultSchema}"._matviews_tracked_tables ADD COLUMN IF NOT EXISTS interrupted_at TIMESTAMPTZ;

-- The trigger function, bounded. Still no SET clause and every name and operator schema-qualified
-- (operators through their functions), so that no writer's search_path can redirect it.
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
        -- one writer records the stop; the others do not wait for its row lock
        IF pg_catalog.pg_try_advisory_xact_lock(7883392736172093506) THEN
            UPDATE "${flyway:defaultSchema}"._matviews_capture
               SET stopped_at = pg_catalog.statement_timestamp(),
                   stop_reason = 'the change log grew past matviews.change-tracking.max-log-size'
             WHERE stopped_at IS NULL;
        END IF;
        RETURN NULL;
    END IF;
    INSERT INTO "${flyway:defaultSchema}"._matviews_changes (relid, xact)
    VALUES (TG_RELID, pg_catalog.pg_current_xact_id());
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION "${flyway:defaultSchema}"._matviews_log_change() FROM PUBLIC;

-- A replica's compaction pass: the heartbeat that keeps capture running, or the record of its
-- stop (a deadline passed while no replica ran, or a log over max_bytes). Returns the stop time,
-- NULL while capture runs.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_capture_heartbeat(max_age_s bigint, max_log_bytes bigint)
    RETURNS timestamptz LANGUAGE plpgsql AS $$
DECLARE
    cap record;
BEGIN
    SELECT * INTO cap FROM "${flyway:defaultSchema}"._matviews_capture FOR UPDATE;
    IF cap.stopped_at IS NULL AND cap.deadline < statement_timestamp() THEN
        UPDATE "${flyway:defaultSchema}"._matviews_capture
           SET stopped_at = cap.deadline,
               stop_reason = 'no replica of matviews compacted the change log for longer than'
                             || ' matviews.change-tracking.max-log-age (' || cap.max_age_seconds || ' s)';
        RETURN cap.deadline;
    END IF;
    IF cap.stopped_at IS NULL AND pg_relation_size(cap.log_oid) > max_log_bytes THEN
        UPDATE "${flyway:defaultSchema}"._matviews_capture
           SET stopped_at = statement_timestamp(),
               stop_reason = 'the change log grew past matviews.change-tracking.max-log-size ('
                             || max_log_bytes || ' bytes)';
        RETURN statement_timestamp();
    END IF;
    UPDATE "${flyway:defaultSchema}"._matviews_capture
       SET max_age_seconds = max_age_s, max_bytes = max_log_bytes,
           heartbeat_at = CASE WHEN stopped_at IS NULL THEN statement_timestamp() ELSE heartbeat_at END,
           deadline = CASE WHEN stopped_at IS NULL THEN statement_timestamp() + max_age_s * interval '1 second'
                           ELSE deadline END;
    RETURN cap.stopped_at;
END
$$;

-- Stopped capture and interrupted claims are blockers of a skip, first of all.
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
