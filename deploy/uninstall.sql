-- Removes everything matviews created, and nothing else: its tables (registrations, run history,
-- cascades, change log, alerts, settings, schedules and jobs) with their indexes and triggers, the change-tracking
-- triggers it put on your tables, the registrations view, its functions, the run event sequence
-- and its migration history.
-- Stop every replica first. Run as the role matviews connects as (the owner of these objects):
--
--   psql "$DATABASE_URL" -v schema=public -f deploy/uninstall.sql
--
-- `schema` is matviews.schema. Materialized views are never created or dropped by matviews, so
-- yours stay as they are. The tables of incremental views stay too (they are plain tables now,
-- no longer kept current); drop them yourself if you no longer want them. If AllYourBase shares this database, it owns _ayb_matview_refreshes,
-- _ayb_jobs and _ayb_job_schedules too: keep those and drop only the rest.
BEGIN;
DROP VIEW IF EXISTS :"schema"._matviews_registrations;
-- The change-tracking triggers on your tables go with their functions (CASCADE drops them).
DROP FUNCTION IF EXISTS :"schema"._matviews_log_change() CASCADE;
DROP FUNCTION IF EXISTS :"schema"._matviews_log_rows() CASCADE;
DROP TABLE IF EXISTS :"schema"._matviews_incremental;
DROP TABLE IF EXISTS :"schema"._matviews_changes;
DROP TABLE IF EXISTS :"schema"._matviews_tracked_tables;
DROP TABLE IF EXISTS :"schema"._matviews_capture;
DROP TABLE IF EXISTS :"schema"._matviews_cascades;
DROP TABLE IF EXISTS :"schema"._matviews_login_attempts;
DROP TABLE IF EXISTS :"schema"._matviews_alerts;
DROP TABLE IF EXISTS :"schema"._matviews_settings;
DROP TABLE IF EXISTS :"schema"._ayb_jobs;
DROP TABLE IF EXISTS :"schema"._ayb_job_schedules;
DROP TABLE IF EXISTS :"schema"._ayb_matview_refresh_runs;
DROP SEQUENCE IF EXISTS :"schema"._ayb_matview_run_event_seq;
DROP TABLE IF EXISTS :"schema"._ayb_matview_refreshes;
DROP TABLE IF EXISTS :"schema"._matviews_schema_history;
DROP FUNCTION IF EXISTS :"schema"._matviews_run_changed();
DROP FUNCTION IF EXISTS :"schema"._matviews_cascade_changed();
DROP FUNCTION IF EXISTS :"schema"._matviews_refresh_needed(oid, uuid, int);
DROP FUNCTION IF EXISTS :"schema"._matviews_change_state(oid, uuid);
DROP FUNCTION IF EXISTS :"schema"._matviews_sources(oid);
DROP FUNCTION IF EXISTS :"schema"._matviews_track(oid, uuid);
DROP FUNCTION IF EXISTS :"schema"._matviews_untrack(uuid);
DROP FUNCTION IF EXISTS :"schema"._matviews_compact_changes(int, xid8);
DROP FUNCTION IF EXISTS :"schema"._matviews_registration_state(text, text, timestamptz, int);
DROP FUNCTION IF EXISTS :"schema"._matviews_targets_view(text, jsonb, text, text);
DROP FUNCTION IF EXISTS :"schema"._matviews_capture_heartbeat(bigint, bigint);
DROP FUNCTION IF EXISTS :"schema"._matviews_login_admit(text, timestamptz, int, bigint, bigint, int);
DROP FUNCTION IF EXISTS :"schema"._matviews_keep_targets(int, float8, int, int, text, int, float8);
DROP FUNCTION IF EXISTS :"schema"._matviews_keep_targets(int, float8, int, int, text, int);
DROP FUNCTION IF EXISTS :"schema"._matviews_freshness(oid, uuid);
DROP FUNCTION IF EXISTS :"schema"._matviews_upstream_data_at(oid);
DROP FUNCTION IF EXISTS :"schema"._matviews_bounded_data_at(timestamptz, timestamptz);
DROP FUNCTION IF EXISTS :"schema"._matviews_registered_closure(oid, uuid);
DROP FUNCTION IF EXISTS :"schema"._matviews_registered_readers(oid);
DROP FUNCTION IF EXISTS :"schema"._matviews_registered_sources(oid);
DROP FUNCTION IF EXISTS :"schema"._matviews_predicted_ms(uuid);
DROP FUNCTION IF EXISTS :"schema"._matviews_alert(text, uuid, jsonb);
DROP FUNCTION IF EXISTS :"schema"._matviews_suspend(uuid, text);
DROP FUNCTION IF EXISTS :"schema"._matviews_sync_capture(oid);
DROP FUNCTION IF EXISTS :"schema"._matviews_source_shape(oid[]);
DROP FUNCTION IF EXISTS :"schema"._matviews_apply(uuid, uuid, float8);
COMMIT;
