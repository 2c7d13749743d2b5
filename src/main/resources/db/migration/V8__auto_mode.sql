-- Issue 14. Refresh mode 'auto': standard while the view is not populated or has no unique index
-- CONCURRENTLY can use, concurrent from then on, decided again at every refresh. Each run says
-- which mode it used and why.
-- The registry table may predate matviews (created by AllYourBase, with its own name for the
-- mode's CHECK constraint): whatever CHECK mentions refresh_mode is replaced by one that allows auto.
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
    ADD CONSTRAINT _ayb_matview_refreshes_refresh_mode_check CHECK (refresh_mode IN ('standard', 'concurrent', 'auto'));

-- Null for runs recorded before this version.
ALTER TABLE "${flyway:defaultSchema}"._ayb_matview_refresh_runs ADD COLUMN IF NOT EXISTS mode_reason TEXT;
