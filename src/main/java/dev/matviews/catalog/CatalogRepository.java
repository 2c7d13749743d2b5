package dev.matviews.catalog;

import dev.matviews.db.CatalogRules;
import dev.matviews.db.NameCursor;
import dev.matviews.db.OwnSchema;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonArray;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * SQL over PostgreSQL's catalog: the database's materialized views and who reads whom. A view's
 * query is its _RETURN rule in pg_rewrite; pg_depend records every relation that rule reads, so
 * following it from rule to relation (and through plain views' own rules) gives the dependency
 * graph without parsing any SQL. Each statement is one round trip.
 */
@ApplicationScoped
public class CatalogRepository {

    /** The relations read by the rule {@code rw} (of the view or matview rw.ev_class), as {@code d.refobjid}. */
    private static final String READS = """
            d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = rw.oid
                 AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid <> rw.ev_class""";

    /** The rules reading relation {@code %s}, as {@code d.objid}. */
    private static final String READ_BY = """
            d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = %s
                 AND d.classid = 'pg_catalog.pg_rewrite'::regclass""";

    /** What relation {@code %1$s} is; a table an incremental view keeps (plans in {@code %2$s}) says so. */
    private static final String KIND = """
            CASE WHEN %1$s.relkind = 'r' AND EXISTS (SELECT 1 FROM %2$s inc WHERE inc.view_oid = %1$s.oid)
                      THEN 'incremental view'
                 ELSE CASE %1$s.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' WHEN 'v' THEN 'view'
                                        WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' END END""";

    /**
     * The relations {@code %1$s} reads: its rule's entries in pg_depend, or for an incremental
     * view (plans in {@code %2$s}) its plan's source tables.
     */
    private static final String READS_OF = """
            SELECT d.refobjid AS rel
              FROM pg_catalog.pg_rewrite rw
              JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = rw.oid
                   AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid <> rw.ev_class
             WHERE rw.ev_class = %1$s
            UNION ALL
            SELECT unnest(inc.source_oids) FROM %2$s inc WHERE inc.view_oid = %1$s""";

    /** The views, matviews and incremental views (plans in {@code %2$s}) reading {@code %1$s}. */
    private static final String READERS_OF = """
            SELECT rw.ev_class AS rel
              FROM pg_catalog.pg_depend d
              JOIN pg_catalog.pg_rewrite rw ON rw.oid = d.objid AND rw.ev_class <> %1$s
             WHERE d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = %1$s
               AND d.classid = 'pg_catalog.pg_rewrite'::regclass
            UNION ALL
            SELECT inc.view_oid FROM %2$s inc WHERE %1$s = ANY (inc.source_oids) AND inc.view_oid IS NOT NULL""";

    /** Relations a graph or catalog shows: no sequences, indexes, composite types or TOAST. */
    private static final String SHOWN = "IN ('r', 'p', 'v', 'm', 'f')";

    /** PostgreSQL's own views are shown when read, but not followed further. */
    private static final String NOT_SYSTEM = "NOT IN ('pg_catalog', 'information_schema')";

    /**
     * A page of matviews, each with its indexes, what it reads and what reads it. The recursion
     * runs per entry (LATERAL): a small walk along pg_depend's indexes from one oid, which stays
     * fast in a generic plan where one recursion over the whole page would be hash-joined against
     * all of pg_class.
     */
    private static final String PAGE = """
            WITH page AS MATERIALIZED (
                SELECT c.oid
                  FROM pg_catalog.pg_class c
                  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind = 'm'
                   AND (n.nspname, c.relname) > ($1::name, $2::name)
                   AND ($3::text IS NULL OR n.nspname = $3::name)
                   AND ($5::boolean IS NULL OR $5 = EXISTS (SELECT 1 FROM %1$s r
                        WHERE r.schema_name = n.nspname::text AND r.view_name = c.relname::text))
                 ORDER BY n.nspname, c.relname
                 LIMIT $4
            )
            SELECT n.nspname::text AS schema_name, c.relname::text AS view_name,
                   pg_catalog.pg_get_userbyid(c.relowner)::text AS owner,
                   %5$s AS missing_privilege,
                   c.relispopulated AS populated,
                   pg_catalog.pg_total_relation_size(c.oid) AS size_bytes,
                   CASE WHEN c.reltuples >= 0 THEN c.reltuples::int8 END AS row_estimate,
                   reg.id AS registration_id,
                   (SELECT coalesce(jsonb_agg(jsonb_build_array(x.name, x.reason) ORDER BY x.name), '[]')
                      FROM (SELECT ic.relname::text AS name, %6$s AS reason
                              FROM pg_catalog.pg_index i
                              JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
                              JOIN pg_catalog.pg_am am ON am.oid = ic.relam
                             WHERE i.indrelid = c.oid AND i.indisunique) x) AS unique_indexes,
                   coalesce(ups.relations, '[]') AS upstream,
                   coalesce(downs.relations, '[]') AS downstream
              FROM page
              JOIN pg_catalog.pg_class c ON c.oid = page.oid
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              LEFT JOIN %1$s reg ON reg.schema_name = n.nspname::text AND reg.view_name = c.relname::text
              LEFT JOIN LATERAL (
                  WITH RECURSIVE up (rel) AS (
                      SELECT d.refobjid
                        FROM pg_catalog.pg_rewrite rw
                        JOIN pg_catalog.pg_depend d ON %2$s
                       WHERE rw.ev_class = c.oid
                      UNION
                      SELECT d.refobjid
                        FROM up
                        JOIN pg_catalog.pg_class v ON v.oid = up.rel AND v.relkind = 'v'
                        JOIN pg_catalog.pg_namespace vn ON vn.oid = v.relnamespace AND vn.nspname %7$s
                        JOIN pg_catalog.pg_rewrite rw ON rw.ev_class = v.oid
                        JOIN pg_catalog.pg_depend d ON %2$s
                  )
                  SELECT jsonb_agg(jsonb_build_array(un.nspname::text, u.relname::text, %8$s)
                                   ORDER BY un.nspname, u.relname) AS relations
                    FROM up
                    JOIN pg_catalog.pg_class u ON u.oid = up.rel AND u.relkind %9$s
                    JOIN pg_catalog.pg_namespace un ON un.oid = u.relnamespace
              ) ups ON true
              LEFT JOIN LATERAL (
                  WITH RECURSIVE down (rel) AS (
                      SELECT rw.ev_class
                        FROM pg_catalog.pg_depend d
                        JOIN pg_catalog.pg_rewrite rw ON rw.oid = d.objid AND rw.ev_class <> c.oid
                       WHERE %3$s
                      UNION
                      SELECT rw.ev_class
                        FROM down
                        JOIN pg_catalog.pg_class v ON v.oid = down.rel AND v.relkind = 'v'
                        JOIN pg_catalog.pg_depend d ON %4$s
                        JOIN pg_catalog.pg_rewrite rw ON rw.oid = d.objid AND rw.ev_class <> v.oid
                  )
                  SELECT jsonb_agg(jsonb_build_array(un.nspname::text, u.relname::text, %8$s)
                                   ORDER BY un.nspname, u.relname) AS relations
                    FROM down
                    JOIN pg_catalog.pg_class u ON u.oid = down.rel AND u.relkind = 'm'
                    JOIN pg_catalog.pg_namespace un ON un.oid = u.relnamespace
              ) downs ON true
             ORDER BY n.nspname, c.relname""";

    /**
     * Every materialized view and incremental view ({@code %4$s}) and everything on their upstream
     * paths through plain views: the edges are followed from each matview's rule and each
     * incremental view's plan, then from the rule of each plain view reached.
     */
    private static final String WHOLE_GRAPH = """
            WITH RECURSIVE edge (source, target) AS (
                SELECT d.refobjid, rw.ev_class
                  FROM pg_catalog.pg_class m
                  JOIN pg_catalog.pg_rewrite rw ON rw.ev_class = m.oid
                  JOIN pg_catalog.pg_depend d ON %1$s
                 WHERE m.relkind = 'm'
                UNION
                SELECT unnest(inc.source_oids), inc.view_oid FROM %4$s inc WHERE inc.view_oid IS NOT NULL
                UNION
                SELECT d.refobjid, rw.ev_class
                  FROM edge
                  JOIN pg_catalog.pg_class v ON v.oid = edge.source AND v.relkind = 'v'
                  JOIN pg_catalog.pg_namespace vn ON vn.oid = v.relnamespace AND vn.nspname %2$s
                  JOIN pg_catalog.pg_rewrite rw ON rw.ev_class = v.oid
                  JOIN pg_catalog.pg_depend d ON %1$s
            ), node AS (
                SELECT oid FROM pg_catalog.pg_class WHERE relkind = 'm'
                UNION SELECT view_oid FROM %4$s WHERE view_oid IS NOT NULL
                UNION SELECT source FROM edge
                UNION SELECT target FROM edge
            )
            %3$s""";

    /**
     * One materialized or incremental view ({@code %6$s} has the latter's plans), everything it
     * reads at any depth (through views, matviews and incremental views alike) and everything that
     * reads it at any depth.
     */
    private static final String AROUND = """
            WITH RECURSIVE root AS (
                SELECT c.oid
                  FROM pg_catalog.pg_class c
                  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = $1::name AND c.relname = $2::name
                   AND (c.relkind = 'm' OR c.relkind = 'r' AND EXISTS (SELECT 1 FROM %6$s inc WHERE inc.view_oid = c.oid))
            ), up (source, target) AS (
                SELECT r.rel, root.oid
                  FROM root
                 CROSS JOIN LATERAL (%1$s) r
                UNION
                SELECT r.rel, v.oid
                  FROM up
                  JOIN pg_catalog.pg_class v ON v.oid = up.source AND v.relkind IN ('v', 'm', 'r')
                  JOIN pg_catalog.pg_namespace vn ON vn.oid = v.relnamespace AND vn.nspname %2$s
                 CROSS JOIN LATERAL (%4$s) r
            ), down (source, target) AS (
                SELECT root.oid, r.rel
                  FROM root
                 CROSS JOIN LATERAL (%5$s) r
                UNION
                SELECT down.target, r.rel
                  FROM down
                 CROSS JOIN LATERAL (%7$s) r
            ), edge AS (
                SELECT * FROM up UNION SELECT * FROM down
            ), node AS (
                SELECT oid FROM root
                UNION SELECT source FROM edge
                UNION SELECT target FROM edge
            )
            %3$s""";

    /** The end of a graph's CTEs ("node", "edge"): each node with the oids it reads. */
    private static final String NODES = """
            , reads AS MATERIALIZED (
                SELECT target, array_agg(source::int8) AS sources FROM edge GROUP BY target
            )
            SELECT c.oid::int8 AS oid, n.nspname::text AS schema_name, c.relname::text AS name, %1$s AS kind,
                   quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS id, reg.id AS registration_id,
                   coalesce(reads.sources, '{}') AS reads
              FROM node
              JOIN pg_catalog.pg_class c ON c.oid = node.oid AND c.relkind %2$s
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              LEFT JOIN %3$s reg ON reg.schema_name = n.nspname::text AND reg.view_name = c.relname::text
                                AND c.relkind = CASE WHEN reg.refresh_mode = 'incremental' THEN 'r' ELSE 'm' END
              LEFT JOIN reads ON reads.target = c.oid
             ORDER BY n.nspname, c.relname""";

    private final String page;
    private final String wholeGraph;
    private final String around;

    public CatalogRepository(OwnSchema schema) {
        String registry = schema.registry();
        String plans = schema.qualify("_matviews_incremental");
        String nodes = NODES.formatted(KIND.formatted("c", plans), SHOWN, registry);
        this.page = PAGE.formatted(registry, READS, READ_BY.formatted("c.oid"), READ_BY.formatted("v.oid"),
                CatalogRules.MISSING_PRIVILEGE, CatalogRules.UNUSABLE_INDEX_REASON, NOT_SYSTEM, KIND.formatted("u", plans),
                SHOWN);
        this.wholeGraph = WHOLE_GRAPH.formatted(READS, NOT_SYSTEM, nodes, plans);
        this.around = AROUND.formatted(READS_OF.formatted("root.oid", plans), NOT_SYSTEM, nodes,
                READS_OF.formatted("v.oid", plans), READERS_OF.formatted("root.oid", plans), plans,
                READERS_OF.formatted("down.target", plans));
    }

    /** Up to {@code limit} materialized views after {@code after} in (schema, name) order. */
    Uni<List<CatalogEntry>> page(Pool pool, NameCursor after, String schema, Boolean registered, int limit) {
        return pool.preparedQuery(page)
                .execute(Tuple.of(after.schema(), after.name(), schema, limit, registered))
                .map(CatalogRepository::entries);
    }

    /** Every materialized view and what it reads through plain views. */
    Uni<DependencyGraph> wholeGraph(Pool pool) {
        return pool.query(wholeGraph).execute().map(CatalogRepository::graph);
    }

    /** The materialized view's upstream and downstream at any depth; empty if there is no such matview. */
    Uni<DependencyGraph> around(Pool pool, String schema, String view) {
        return pool.preparedQuery(around).execute(Tuple.of(schema, view)).map(CatalogRepository::graph);
    }

    private static List<CatalogEntry> entries(RowSet<Row> rows) {
        List<CatalogEntry> entries = new ArrayList<>(rows.size());
        for (Row row : rows) {
            List<CatalogEntry.UniqueIndex> indexes = new ArrayList<>();
            for (Object o : (JsonArray) row.getValue("unique_indexes")) {
                JsonArray ix = (JsonArray) o;
                indexes.add(new CatalogEntry.UniqueIndex(ix.getString(0), ix.getString(1) == null, ix.getString(1)));
            }
            boolean populated = row.getBoolean("populated");
            String blocker = CatalogEntry.concurrentBlocker(populated, indexes);
            String missing = row.getString("missing_privilege");
            entries.add(new CatalogEntry(row.getString("schema_name"), row.getString("view_name"),
                    row.getString("owner"), missing == null, missing, populated, row.getLong("size_bytes"),
                    row.getLong("row_estimate"), indexes, blocker == null, blocker, row.getUUID("registration_id"),
                    relations((JsonArray) row.getValue("upstream")), relations((JsonArray) row.getValue("downstream"))));
        }
        return entries;
    }

    private static List<CatalogEntry.Relation> relations(JsonArray rows) {
        List<CatalogEntry.Relation> relations = new ArrayList<>(rows.size());
        for (Object o : rows) {
            JsonArray r = (JsonArray) o;
            relations.add(new CatalogEntry.Relation(r.getString(0), r.getString(1), r.getString(2)));
        }
        return relations;
    }

    private static DependencyGraph graph(RowSet<Row> rows) {
        Map<Long, String> ids = new HashMap<>();
        List<DependencyGraph.Node> nodes = new ArrayList<>(rows.size());
        for (Row row : rows) {
            ids.put(row.getLong("oid"), row.getString("id"));
            nodes.add(new DependencyGraph.Node(row.getString("id"), row.getString("schema_name"),
                    row.getString("name"), row.getString("kind"), row.getUUID("registration_id")));
        }
        List<DependencyGraph.Edge> edges = new ArrayList<>();
        for (Row row : rows) {
            for (Long source : row.getArrayOfLongs("reads")) {
                String from = ids.get(source);
                // A read of something not shown (a sequence, a composite type) is no edge.
                if (from != null) {
                    edges.add(new DependencyGraph.Edge(from, row.getString("id")));
                }
            }
        }
        return new DependencyGraph(nodes, edges);
    }
}
