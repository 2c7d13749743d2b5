package dev.matviews.incremental;

import dev.matviews.problem.InvalidInputException;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import io.vertx.pgclient.PgException;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * SQL that reads a definition as PostgreSQL parses it: a temporary view of it is created in a
 * transaction that is always rolled back, and its stored query tree ({@code pg_rewrite.ev_action})
 * and the catalog entries it refers to are read. Nothing the definition names is executed, and
 * the role's own privileges apply.
 */
@ApplicationScoped
public class DefinitionRepository {

    /** What PostgreSQL made of a definition. */
    public record Parsed(NodeTree.Node query, List<String> columns, Map<String, String> incomparable,
                         Eligibility.Catalog catalog, List<String> types, String printed) {
    }

    // printed back under an empty search_path, so that every table is schema-qualified
    private static final String TREE = "SELECT r.ev_action::text, (SELECT array_agg(a.attname::text ORDER BY a.attnum)"
            + " FROM pg_catalog.pg_attribute a WHERE a.attrelid = r.ev_class AND a.attnum > 0),"
            + " (SELECT array_agg(pg_catalog.format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum)"
            + " FROM pg_catalog.pg_attribute a WHERE a.attrelid = r.ev_class AND a.attnum > 0),"
            + " pg_catalog.pg_get_viewdef(r.ev_class)"
            + " FROM pg_catalog.pg_rewrite r WHERE r.ev_class = $1::regclass AND r.rulename = '_RETURN'";
    private static final String RELATIONS = "SELECT c.oid::bigint, n.nspname::text, c.relname::text, c.relkind::text,"
            + " c.relhassubclass"
            + " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ANY($1::bigint[]::oid[])";
    private static final String FUNCTIONS = "SELECT p.oid::bigint, n.nspname::text, p.proname::text, p.provolatile::text,"
            + " p.prokind::text FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace"
            + " WHERE p.oid = ANY($1::bigint[]::oid[])";
    // a cast through text is as volatile as the input and output functions it calls
    private static final String TYPES = "SELECT t.oid::bigint, CASE WHEN i.provolatile = 'i' AND o.provolatile = 'i'"
            + " THEN 'i' ELSE 's' END FROM pg_catalog.pg_type t JOIN pg_catalog.pg_proc i ON i.oid = t.typinput"
            + " JOIN pg_catalog.pg_proc o ON o.oid = t.typoutput WHERE t.oid = ANY($1::bigint[]::oid[])";

    // output columns without a default btree equality for their type (through a domain's base type,
    // a binary-coercible type, or the polymorphic classes of arrays, enums, ranges and composites)
    private static final String INCOMPARABLE = """
            SELECT a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod)
              FROM pg_catalog.pg_attribute a
              JOIN pg_catalog.pg_type t0 ON t0.oid = a.atttypid
              JOIN pg_catalog.pg_type t ON t.oid = CASE WHEN t0.typtype = 'd' THEN t0.typbasetype ELSE t0.oid END
             WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
               AND NOT EXISTS (
                   SELECT 1 FROM pg_catalog.pg_opclass oc JOIN pg_catalog.pg_am am ON am.oid = oc.opcmethod
                    WHERE am.amname = 'btree' AND oc.opcdefault
                      AND (oc.opcintype = t.oid
                           OR EXISTS (SELECT 1 FROM pg_catalog.pg_cast c WHERE c.castsource = t.oid
                                         AND c.casttarget = oc.opcintype AND c.castmethod = 'b')
                           OR (oc.opcintype = 'pg_catalog.anyarray'::regtype AND t.typelem <> 0 AND t.typlen = -1)
                           OR (oc.opcintype = 'pg_catalog.anyenum'::regtype AND t.typtype = 'e')
                           OR (oc.opcintype = 'pg_catalog.anyrange'::regtype AND t.typtype = 'r')
                           OR (oc.opcintype = 'pg_catalog.record'::regtype AND t.typtype = 'c')))
             ORDER BY a.attnum""";

    private final Pool pool;

    public DefinitionRepository(Pool pool) {
        this.pool = pool;
    }

    public Uni<Parsed> parse(String definition) {
        String view = "pg_temp.matviews_explain_" + UUID.randomUUID().toString().replace("-", "");
        return pool.withConnection(conn -> conn.begin().flatMap(tx -> parse(conn, view, definition)
                .onTermination().call(tx::rollback)));
    }

    private Uni<Parsed> parse(SqlConnection conn, String view, String definition) {
        return conn.query("SET LOCAL statement_timeout = '10s'").execute()
                // a prepared statement holds one command: the definition cannot add another
                .flatMap(ignored -> conn.preparedQuery("CREATE TEMPORARY VIEW " + view + " AS " + definition).execute())
                .onFailure(PgException.class).transform(e -> refused((PgException) e))
                .flatMap(ignored -> conn.query("SET LOCAL search_path = ''").execute())
                .flatMap(ignored -> conn.preparedQuery(TREE).execute(Tuple.of(view)))
                .flatMap(rows -> {
                    Row row = rows.iterator().next();
                    NodeTree.Node query = Eligibility.query(NodeTree.parse(row.getString(0)));
                    List<String> columns = List.of(row.getArrayOfStrings(1));
                    List<String> columnTypes = List.of(row.getArrayOfStrings(2));
                    String printed = row.getString(3);
                    Eligibility.Needs needs = Eligibility.needs(query);
                    return conn.preparedQuery(INCOMPARABLE).execute(Tuple.of(view)).flatMap(incomparableRows -> {
                        Map<String, String> incomparable = new java.util.LinkedHashMap<>();
                        incomparableRows.forEach(r -> incomparable.put(r.getString(0), r.getString(1)));
                        return lookup(conn, RELATIONS, needs.relations()).flatMap(relations ->
                            lookup(conn, FUNCTIONS, needs.functions()).flatMap(functions ->
                                    lookup(conn, TYPES, needs.types()).map(types -> {
                                        Map<Long, Eligibility.Relation> rels = new HashMap<>();
                                        relations.forEach(r -> rels.put(r.getLong(0), new Eligibility.Relation(
                                                r.getString(1), r.getString(2), r.getString(3), r.getBoolean(4))));
                                        Map<Long, Eligibility.Function> funcs = new HashMap<>();
                                        functions.forEach(r -> funcs.put(r.getLong(0), new Eligibility.Function(
                                                r.getString(1), r.getString(2), r.getString(3), r.getString(4))));
                                        Map<Long, String> io = new HashMap<>();
                                        types.forEach(r -> io.put(r.getLong(0), r.getString(1)));
                                        return new Parsed(query, columns, incomparable,
                                                new Eligibility.Catalog(rels, funcs, io), columnTypes, printed);
                                    })));
                    });
                });
    }

    private static Uni<List<Row>> lookup(SqlConnection conn, String sql, Set<Long> oids) {
        if (oids.isEmpty()) {
            return Uni.createFrom().item(List.of());
        }
        return conn.preparedQuery(sql).execute(Tuple.of(oids.toArray(Long[]::new))).map(rows -> {
            List<Row> list = new ArrayList<>();
            rows.forEach(list::add);
            return list;
        });
    }

    /** A definition PostgreSQL refuses (syntax, unknown names, more than one command): bad input, with its words. */
    private static Throwable refused(PgException e) {
        String state = e.getSqlState() == null ? "" : e.getSqlState();
        if (state.startsWith("42") || state.startsWith("22") || state.equals("0A000")) {
            return new InvalidInputException("definition is not a query PostgreSQL accepts: " + e.getErrorMessage());
        }
        return e;
    }
}
