-- The rights matviews needs, and no more. Run once per database as its owner or a superuser:
--
--   psql "$DATABASE_URL" -v role=matviews -v schema=public -f deploy/grants.sql
--
-- `role` is the LOGIN role the service connects as (create it first, for example
-- CREATE ROLE matviews LOGIN PASSWORD '...'; it needs no SUPERUSER, CREATEDB or CREATEROLE).
-- `schema` is matviews.schema, where matviews keeps its own tables (default public).

-- Connect to the database (PUBLIC has this unless it was revoked).
GRANT CONNECT ON DATABASE :"DBNAME" TO :"role";

-- Its own tables: Flyway creates them at start-up in this schema.
CREATE SCHEMA IF NOT EXISTS :"schema";
GRANT USAGE, CREATE ON SCHEMA :"schema" TO :"role";

-- The views it refreshes. PostgreSQL lets only these roles refresh a materialized view; pick
-- one per view (or per owning role), and give USAGE on every schema that holds such views:
--
--   GRANT USAGE ON SCHEMA reporting TO matviews;
--   PostgreSQL 17+:  GRANT MAINTAIN ON reporting.daily_totals TO matviews;  -- one view
--                    GRANT pg_maintain TO matviews;                          -- every table and view
--   any version:     GRANT reporting_owner TO matviews;  -- the role that owns the views
--                    ALTER MATERIALIZED VIEW reporting.daily_totals OWNER TO matviews;
--
-- Membership in the owning role also gives that role's other privileges; MAINTAIN gives only
-- VACUUM, ANALYZE, CLUSTER, REFRESH MATERIALIZED VIEW, REINDEX and LOCK TABLE. A view's query
-- runs as the view's owner, so the owner (not matviews) needs SELECT on what it reads.

-- Incremental views (refreshMode incremental, docs/incremental.md): matviews creates the view's
-- table in the schema it names (CREATE there) and puts change-capture triggers on the tables its
-- definition reads (TRIGGER on each, SELECT to read them, and, as for skipUnchanged's change
-- tracking, the tables' owner role to enable the triggers ALWAYS):
--
--   GRANT USAGE, CREATE ON SCHEMA reporting TO matviews;
--   GRANT SELECT, TRIGGER ON public.orders, public.order_items TO matviews;
--   GRANT app_owner TO matviews;   -- the role that owns those tables
