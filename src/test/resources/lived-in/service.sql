-- Rights of the service role beyond deploy/grants.sql, view by view, as a user would choose them
-- (see the comments there): ownership, membership in the owning role, MAINTAIN on 17+, and
-- nothing at all for public.customer_totals and private_area (not even USAGE on the schema).
GRANT USAGE ON SCHEMA "Reporting" TO matviews_svc;

-- Owned by the service.
CREATE MATERIALIZED VIEW public.order_counts AS SELECT customer, count(*) AS n FROM public.orders GROUP BY customer;
GRANT SELECT ON public.orders TO matviews_svc;
ALTER MATERIALIZED VIEW public.order_counts OWNER TO matviews_svc;

-- Through membership in the owning role.
GRANT reporting_owner TO matviews_svc;

-- MAINTAIN exists from PostgreSQL 17; before, the service may not refresh this view.
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 170000 THEN
        EXECUTE 'GRANT MAINTAIN ON "Reporting"."DailyTotals" TO matviews_svc';
    END IF;
END $$;

-- The application's schema first: matviews' statements must not depend on the search_path.
ALTER ROLE matviews_svc SET search_path = "Reporting", public;

-- What "unchanged" means for the application: a fingerprint of its objects and data, taken
-- now (before matviews first starts) and compared by the tests later. Only the superuser sees it.
CREATE SCHEMA lived_in;
REVOKE ALL ON SCHEMA lived_in FROM PUBLIC;
CREATE FUNCTION lived_in.fingerprint() RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(item, E'\n' ORDER BY item) FROM (
        -- schemas and relations of the application (not matviews', which its role owns):
        -- kind, owner, privileges, options, columns and view definitions
        SELECT format('schema %I owner=%s acl=%s', n.nspname, n.nspowner::regrole, n.nspacl) AS item
          FROM pg_namespace n WHERE n.nspname IN ('public', 'Reporting', 'private_area')
        UNION ALL
        SELECT format('%I.%I kind=%s owner=%s acl=%s options=%s columns=%s definition=%s', n.nspname, c.relname,
                      c.relkind, c.relowner::regrole, c.relacl, c.reloptions,
                      (SELECT string_agg(format('%I %s%s', a.attname, format_type(a.atttypid, a.atttypmod),
                                                CASE WHEN a.attnotnull THEN ' not null' END), ', ' ORDER BY a.attnum)
                         FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
                      CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END)
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname IN ('public', 'Reporting', 'private_area') AND c.relowner <> 'matviews_svc'::regrole
        UNION ALL
        -- the data of its tables (not of its materialized views: refreshing those is the point)
        SELECT 'orders ' || md5(string_agg(o::text, ',' ORDER BY o.id)) FROM public.orders o
        UNION ALL SELECT 'order items ' || md5(string_agg(i::text, ',' ORDER BY i.order_id)) FROM public."Order Items" i
        UNION ALL SELECT 'flyway ' || string_agg(h::text, ',' ORDER BY h.installed_rank) FROM public.flyway_schema_history h
        UNION ALL SELECT 'liquibase ' || string_agg(l::text, ',' ORDER BY l.orderexecuted) FROM public.databasechangelog l
        UNION ALL SELECT 'liquibase lock ' || string_agg(k::text, ',') FROM public.databasechangeloglock k
        UNION ALL SELECT 'registry ' || coalesce(string_agg(d::text, ','), '') FROM "Reporting"._ayb_matview_refreshes d
        UNION ALL SELECT 'runs ' || count(*) FROM "Reporting"._ayb_matview_refresh_runs
        UNION ALL SELECT 'jobs ' || count(*) FROM "Reporting"._ayb_jobs
        UNION ALL SELECT 'schedules ' || count(*) FROM "Reporting"._ayb_job_schedules
        UNION ALL SELECT 'history ' || count(*) FROM "Reporting"._matviews_schema_history
        UNION ALL SELECT 'sequence ' || last_value || ' ' || is_called FROM "Reporting"._ayb_matview_run_event_seq
    ) items
$$;
CREATE TABLE lived_in.baseline AS SELECT lived_in.fingerprint() AS fingerprint,
    (SELECT array_agg(c.relname ORDER BY c.relname) FROM pg_class c
      WHERE c.relnamespace = 'public'::regnamespace) AS public_relations;
