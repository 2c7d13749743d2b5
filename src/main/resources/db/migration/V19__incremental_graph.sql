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
