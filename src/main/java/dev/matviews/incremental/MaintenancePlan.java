package dev.matviews.incremental;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The SQL that creates and maintains an incremental view, made from its definition as PostgreSQL
 * printed it and parsed it (docs/incremental.md has the algebra).
 *
 * <p>Counting: every row of a source carries a multiplicity, +1 for a row as it is, and a change
 * row of the log +1 (inserted) or -1 (deleted). The definition is linear in each table, so the
 * change of its result is the sum over the table references i of the definition evaluated with
 * reference i replaced by its changes, the references before it by their new state and those after
 * it by their old state (the new state minus the changes); a multiplicity of a joined row is the
 * product of its parts' (so always +1 or -1). Summed per output row or group, that is what to add
 * to the view: a row count for DISTINCT, copies of a row for a plain select, and count, sum, avg
 * (kept as sum and count), min and max (a group that lost a row at its min or max is re-aggregated
 * from the sources, that group only) per group.
 *
 * <p>One statement does a whole refresh, so it reads the change log and the sources in one
 * snapshot: which changes are pending (committed, and not seen by the last refresh's snapshot), and
 * whether to rebuild instead (first population, capture stopped or restarted, a TRUNCATE, the
 * columns of a source changed, or more pending changes than a share of a source), are decided in
 * the statement. Parameters: $1 the last refresh's snapshot, $2 the rebuild share, $3 when the
 * last refresh ran, $4 whether a source's columns changed. It returns why it rebuilt (null: it
 * applied changes), the pending change rows, the view rows written or deleted, and its snapshot.
 */
public final class MaintenancePlan {

    enum Shape { ROWS, DISTINCT, GROUPED }

    /** An aggregate output column: its function, its argument's text ("*" for count(*)), its sum's type. */
    record Aggregate(String function, String argument, String sumType) {
        boolean star() {
            return argument.equals("*");
        }
    }

    /** An output column: its name and type, and either its group key number or its aggregate. */
    record Column(String name, String type, int key, Aggregate aggregate) {
    }

    private static final Map<String, String> SUM_TYPES = Map.of("20", "bigint", "1700", "numeric",
            "790", "money", "1186", "interval");

    private final DeparsedQuery query;
    private final Shape shape;
    private final List<Column> columns;
    /** The group keys' expressions, in order; the output column of each, or -1 for a hidden one. */
    private final List<String> keyExpressions;
    private final List<Integer> keyColumns;
    private final String log;
    private final String capture;
    private final List<Long> sources;

    private MaintenancePlan(DeparsedQuery query, Shape shape, List<Column> columns, List<String> keyExpressions,
                            List<Integer> keyColumns, String ownSchema, List<Long> sources) {
        this.query = query;
        this.shape = shape;
        this.columns = columns;
        this.keyExpressions = keyExpressions;
        this.keyColumns = keyColumns;
        this.log = quote(ownSchema) + "._matviews_changes";
        this.capture = quote(ownSchema) + "._matviews_capture";
        this.sources = sources;
    }

    /** The plan of an eligible definition. */
    public static MaintenancePlan of(DefinitionRepository.Parsed parsed, String ownSchema) {
        NodeTree.Node tree = parsed.query();
        DeparsedQuery q = new DeparsedQuery(parsed.printed());
        List<NodeTree.Node> targets = new ArrayList<>();
        for (Object o : tree.list("targetList")) {
            if (o instanceof NodeTree.Node tle && !tle.flag("resjunk")) {
                targets.add(tle);
            }
        }
        if (targets.size() != q.targets.size() || targets.size() != parsed.columns().size()) {
            throw new IllegalStateException("the printed definition has " + q.targets.size() + " columns, the tree "
                    + targets.size());
        }
        List<Long> sources = new ArrayList<>();
        for (Object o : tree.list("rtable")) {
            if (o instanceof NodeTree.Node rte && rte.flag("inFromCl") && "0".equals(rte.text("rtekind"))) {
                long oid = Long.parseLong(rte.text("relid"));
                if (!sources.contains(oid)) {
                    sources.add(oid);
                }
            }
        }
        boolean grouped = tree.flag("hasAggs") || tree.isSet("groupClause");
        Shape shape = grouped ? Shape.GROUPED : tree.isSet("distinctClause") ? Shape.DISTINCT : Shape.ROWS;
        List<String> keyExpressions = new ArrayList<>();
        List<Integer> keyColumns = new ArrayList<>();
        Map<String, Integer> keyOfRef = new HashMap<>();
        if (grouped) {
            List<Object> clauses = tree.list("groupClause");
            if (clauses.size() != q.groupBy.size()) {
                throw new IllegalStateException("GROUP BY has " + q.groupBy.size() + " printed items, the tree "
                        + clauses.size());
            }
            for (int i = 0; i < clauses.size(); i++) {
                String ref = ((NodeTree.Node) clauses.get(i)).text("tleSortGroupRef");
                int column = -1;
                for (int c = 0; c < targets.size(); c++) {
                    if (ref.equals(targets.get(c).text("ressortgroupref"))) {
                        column = c;
                        break;
                    }
                }
                keyOfRef.put(ref, i);
                keyExpressions.add(column >= 0 ? DeparsedQuery.expression(q.targets.get(column)) : q.groupBy.get(i));
                keyColumns.add(column);
            }
        }
        List<Column> columns = new ArrayList<>();
        for (int c = 0; c < targets.size(); c++) {
            NodeTree.Node tle = targets.get(c);
            String name = parsed.columns().get(c);
            String type = parsed.types().get(c);
            String expression = DeparsedQuery.expression(q.targets.get(c));
            if (!grouped) {
                keyExpressions.add(expression);
                keyColumns.add(c);
                columns.add(new Column(name, type, c, null));
                continue;
            }
            Integer key = keyOfRef.get(tle.text("ressortgroupref"));
            if (key != null) {
                columns.add(new Column(name, type, key, null));
                continue;
            }
            NodeTree.Node agg = tle.node("expr");
            String function = functionName(parsed, agg);
            String argument = DeparsedQuery.aggregateArgument(expression);
            String sumType = function.equals("sum") || function.equals("avg")
                    ? SUM_TYPES.get(agg.text("aggtype")) : null;
            columns.add(new Column(name, type, -1, new Aggregate(function, argument, sumType)));
        }
        return new MaintenancePlan(q, shape, columns, keyExpressions, keyColumns, ownSchema, sources);
    }

    private static String functionName(DefinitionRepository.Parsed parsed, NodeTree.Node agg) {
        Eligibility.Function f = parsed.catalog().functions().get(Long.parseLong(agg.text("aggfnoid")));
        return f.name();
    }

    /** The oids of the tables it reads. */
    public List<Long> sources() {
        return sources;
    }

    // ---- the table ----

    /** The table's columns in order: the definition's, then the bookkeeping ones, with their types. */
    private List<String[]> tableColumns() {
        List<String[]> out = new ArrayList<>();
        for (Column c : columns) {
            out.add(new String[]{quote(c.name()), c.type()});
        }
        for (int k = 0; k < keyColumns.size(); k++) {
            if (keyColumns.get(k) < 0) {
                out.add(new String[]{quote("__key_" + (k + 1)), null});
            }
        }
        if (shape != Shape.ROWS) {
            out.add(new String[]{quote("__count"), "bigint"});
        }
        for (int c = 0; c < columns.size(); c++) {
            Aggregate a = columns.get(c).aggregate();
            if (a == null || a.function().equals("count")) {
                continue;
            }
            if (a.function().equals("avg")) {
                out.add(new String[]{quote("__sum_" + (c + 1)), a.sumType()});
            }
            out.add(new String[]{quote("__nn_" + (c + 1)), "bigint"});
        }
        return out;
    }

    /** CREATE TABLE of the view, empty, its column types those of the definition (hidden keys: their own). */
    public String createTable(String qualifiedView) {
        StringJoiner select = new StringJoiner(", ");
        List<String[]> table = tableColumns();
        List<String> values = fullValues("__mv_f");
        for (int i = 0; i < table.size(); i++) {
            String[] col = table.get(i);
            select.add((col[1] == null ? values.get(i) : "CAST(" + values.get(i) + " AS " + col[1] + ")") + " AS " + col[0]);
        }
        return "CREATE TABLE " + qualifiedView + " AS WITH __mv_f AS (" + aggregate(List.of(term(fullStates(), "true")))
                + ") SELECT " + select + " FROM __mv_f WITH NO DATA";
    }

    /** The index the apply statement finds a view's rows or groups by; null when it has none to find. */
    public String createIndex(String qualifiedView) {
        if (keyColumns.isEmpty()) {
            return null;
        }
        StringJoiner cols = new StringJoiner(", ");
        int n = shape == Shape.GROUPED ? Math.min(keyColumns.size(), 32) : 1;
        for (int k = 0; k < n; k++) {
            cols.add(keyColumn(k));
        }
        return "CREATE INDEX ON " + qualifiedView + " (" + cols + ")";
    }

    private String keyColumn(int k) {
        int c = keyColumns.get(k);
        return c >= 0 ? quote(columns.get(c).name()) : quote("__key_" + (k + 1));
    }

    // ---- the terms ----

    /**
     * A table reference's state in a term: as it is now, as it was before the pending changes (now
     * minus them), its changes, or its changes with their signs flipped.
     */
    private enum State { NEW, OLD, CHANGES, UNDONE }

    /** Up to this many table references, old states are expanded into separate terms (2^n - 1 of them). */
    private static final int EXPANDED_REFERENCES = 6;

    private List<State> fullStates() {
        List<State> states = new ArrayList<>();
        query.tables.forEach(t -> states.add(State.NEW));
        return states;
    }

    /**
     * The terms of the change: for reference i, its changes joined with the references before it
     * as they are now and those after it as they were. An old state is now minus the changes, so
     * (the join being linear in each reference) a term with old states is the sum of terms with,
     * for each of them, the table as it is or its changes with flipped signs: plain joins of tables
     * and small change sets, which the planner joins by index, and each skipped at run time unless
     * every change set in it is non-empty.
     */
    private List<List<State>> deltaStates() {
        List<List<State>> all = new ArrayList<>();
        int n = query.tables.size();
        for (int i = 0; i < n; i++) {
            int later = n - 1 - i;
            boolean expand = n <= EXPANDED_REFERENCES;
            for (int mask = 0; mask < (expand ? 1 << later : 1); mask++) {
                List<State> states = new ArrayList<>();
                for (int j = 0; j < n; j++) {
                    if (j < i) {
                        states.add(State.NEW);
                    } else if (j == i) {
                        states.add(State.CHANGES);
                    } else if (!expand) {
                        states.add(State.OLD);
                    } else {
                        states.add((mask & (1 << (j - i - 1))) != 0 ? State.UNDONE : State.NEW);
                    }
                }
                all.add(states);
            }
        }
        return all;
    }

    /**
     * The pending changes of table reference {@code i}'s table as rows of it with their sign (flipped
     * for an old state): read from that table's log CTE, whose rows are already typed.
     */
    private String changes(int i, String m, boolean negate) {
        return "SELECT (__mv_l.__mv_rec).*, " + (negate ? "-" : "") + "__mv_l.__mv_sign AS " + m + " FROM "
                + logCte(query.tables.get(i).qualified()) + " __mv_l";
    }

    /** The name of the CTE holding a table's pending change rows. */
    private String logCte(String table) {
        return "__mv_log" + (distinctTables().indexOf(table) + 1);
    }

    private List<String> distinctTables() {
        List<String> out = new ArrayList<>();
        query.tables.forEach(t -> {
            if (!out.contains(t.qualified())) {
                out.add(t.qualified());
            }
        });
        return out;
    }

    /**
     * A table's pending change rows, each its row image read into the table's row type once, with
     * its sign; empty, and not read at all, when the table has none or the refresh rebuilds.
     */
    private String logCteDefinition(String table, String gate) {
        String relid = "'" + table.replace("'", "''") + "'::pg_catalog.regclass";
        return logCte(table) + " AS MATERIALIZED (SELECT pg_catalog.jsonb_populate_record(NULL::" + table
                + ", __mv_c.\"row\") AS __mv_rec, CASE WHEN __mv_c.op = 'i' THEN 1 ELSE -1 END AS __mv_sign FROM " + log
                + " __mv_c WHERE __mv_c.relid = " + relid + " AND __mv_c.op IN ('i', 'd')"
                + " AND NOT pg_catalog.pg_visible_in_snapshot(__mv_c.xact, $1::pg_snapshot) AND " + gate
                + " AND EXISTS (SELECT 1 FROM __mv_pending WHERE relid = " + relid + "))";
    }

    /** The definition's rows under {@code states}: key expressions, aggregate arguments, multiplicity. */
    private String term(List<State> states, String gate) {
        List<String> replacements = new ArrayList<>();
        StringJoiner product = new StringJoiner(" * ", "(", ")");
        for (int i = 0; i < states.size(); i++) {
            String table = query.tables.get(i).qualified();
            String m = "__mv_m" + (i + 1);
            product.add(m);
            String now = "SELECT __mv_t.*, 1 AS " + m + " FROM " + table + " __mv_t";
            replacements.add("(" + switch (states.get(i)) {
                case NEW -> now;
                case OLD -> now + " UNION ALL " + changes(i, m, true);
                case CHANGES -> changes(i, m, false);
                case UNDONE -> changes(i, m, true);
            } + ")");
        }
        StringJoiner select = new StringJoiner(", ");
        for (int k = 0; k < keyExpressions.size(); k++) {
            select.add(keyExpressions.get(k) + " AS __mv_k" + (k + 1));
        }
        for (int c = 0; c < columns.size(); c++) {
            Aggregate a = columns.get(c).aggregate();
            if (a != null && !a.star()) {
                select.add(a.argument() + " AS __mv_a" + (c + 1));
            }
        }
        select.add(product + " AS __mv_m");
        String where = query.where == null ? "" : "(" + query.where + ")";
        // one-time filters: a term with a change set that is empty is not evaluated at all
        StringJoiner condition = new StringJoiner(" AND ");
        for (int i = 0; i < states.size(); i++) {
            if (states.get(i) == State.CHANGES || states.get(i) == State.UNDONE) {
                condition.add("EXISTS (SELECT 1 FROM __mv_pending WHERE relid = '"
                        + query.tables.get(i).qualified().replace("'", "''") + "'::pg_catalog.regclass)");
            }
        }
        String filter = condition.length() == 0 ? gate : condition.toString();
        where = where.isEmpty() ? filter : where + " AND " + filter;
        return "SELECT " + select + " FROM " + query.from(replacements) + (where.isEmpty() ? "" : " WHERE " + where);
    }

    /** Summed per output row or group: what the terms add to the view. */
    private String aggregate(List<String> terms) {
        StringJoiner select = new StringJoiner(", ");
        StringJoiner keys = new StringJoiner(", ");
        StringJoiner notNull = new StringJoiner(" AND ");
        for (int k = 0; k < keyExpressions.size(); k++) {
            select.add("__mv_k" + (k + 1));
            keys.add("__mv_k" + (k + 1));
            notNull.add("__mv_k" + (k + 1) + " IS NOT NULL");
        }
        select.add("coalesce(sum(__mv_m), 0)::bigint AS __mv_count");
        List<String> dirty = new ArrayList<>();
        for (int c = 0; c < columns.size(); c++) {
            Aggregate a = columns.get(c).aggregate();
            if (a == null) {
                continue;
            }
            int n = c + 1;
            String arg = "__mv_a" + n;
            String nonNull = "coalesce(sum(CASE WHEN " + arg + " IS DISTINCT FROM NULL THEN __mv_m ELSE 0 END), 0)::bigint";
            switch (a.function()) {
                case "count" -> select.add((a.star() ? "coalesce(sum(__mv_m), 0)::bigint" : nonNull) + " AS __mv_c" + n);
                case "sum", "avg" -> {
                    select.add("CAST(sum(CASE WHEN __mv_m > 0 THEN CAST(" + arg + " AS " + a.sumType() + ") ELSE -CAST("
                            + arg + " AS " + a.sumType() + ") END) AS " + a.sumType() + ") AS __mv_s" + n);
                    select.add(nonNull + " AS __mv_n" + n);
                }
                default -> {
                    select.add(a.function() + "(" + arg + ") FILTER (WHERE __mv_m > 0) AS __mv_x" + n);
                    select.add(nonNull + " AS __mv_n" + n);
                    dirty.add("bool_or(__mv_m < 0 AND " + arg + " IS DISTINCT FROM NULL)");
                }
            }
        }
        select.add((dirty.isEmpty() ? "false" : "coalesce(" + String.join(" OR ", dirty) + ", false)") + " AS __mv_dirty");
        select.add((notNull.length() == 0 ? "true" : notNull.toString()) + " AS __mv_nn");
        select.add("row_number() OVER () AS __mv_i");
        String sql = "SELECT " + select + " FROM (" + String.join(" UNION ALL ", terms) + ") __mv_u";
        if (!keyExpressions.isEmpty()) {
            sql += " GROUP BY " + keys;
        }
        if (shape != Shape.GROUPED) {
            sql += " HAVING sum(__mv_m) <> 0";
        }
        return sql;
    }

    // ---- the values written ----

    /** A new row's or group's values, in table column order, from the summed changes {@code d} (no recomputed groups). */
    private List<String> fullValues(String d) {
        return values(d, null);
    }

    private List<String> values(String d, String r) {
        List<String> out = new ArrayList<>();
        for (int c = 0; c < columns.size(); c++) {
            Column col = columns.get(c);
            Aggregate a = col.aggregate();
            int n = c + 1;
            if (a == null) {
                out.add(d + ".__mv_k" + (col.key() + 1));
                continue;
            }
            String none = "CASE WHEN " + d + ".__mv_n" + n + " = 0 THEN NULL";
            out.add(switch (a.function()) {
                case "count" -> d + ".__mv_c" + n;
                case "sum" -> none + " ELSE " + d + ".__mv_s" + n + " END";
                case "avg" -> none + " ELSE " + average(d + ".__mv_s" + n, d + ".__mv_n" + n, a) + " END";
                default -> none + (r == null ? "" : " WHEN " + d + ".__mv_dirty THEN " + r + ".__mv_x" + n)
                        + " ELSE " + d + ".__mv_x" + n + " END";
            });
        }
        for (int k = 0; k < keyColumns.size(); k++) {
            if (keyColumns.get(k) < 0) {
                out.add(d + ".__mv_k" + (k + 1));
            }
        }
        if (shape != Shape.ROWS) {
            out.add(d + ".__mv_count");
        }
        for (int c = 0; c < columns.size(); c++) {
            Aggregate a = columns.get(c).aggregate();
            if (a == null || a.function().equals("count")) {
                continue;
            }
            int n = c + 1;
            if (a.function().equals("avg")) {
                out.add("CASE WHEN " + d + ".__mv_n" + n + " = 0 THEN NULL ELSE " + d + ".__mv_s" + n + " END");
            }
            out.add(d + ".__mv_n" + n);
        }
        return out;
    }

    /** avg as PostgreSQL computes it from a sum and a count (numeric division; interval by float8). */
    private static String average(String sum, String count, Aggregate a) {
        return a.sumType().equals("interval") ? "(" + sum + " / CAST(" + count + " AS float8))"
                : "(CAST(" + sum + " AS numeric) / CAST(" + count + " AS numeric))";
    }

    private String columnList() {
        StringJoiner out = new StringJoiner(", ");
        tableColumns().forEach(c -> out.add(c[0]));
        return out.toString();
    }

    private String match(String v, String d, boolean nullSafe) {
        StringJoiner out = new StringJoiner(" AND ");
        for (int k = 0; k < keyColumns.size(); k++) {
            out.add(v + "." + keyColumn(k) + (nullSafe ? " IS NOT DISTINCT FROM " : " = ") + d + ".__mv_k" + (k + 1));
        }
        return out.length() == 0 ? "true" : out.toString();
    }

    // ---- the statement ----

    /** The one statement of a refresh (see the class comment for its parameters and result). */
    public String applySql(String qualifiedView) {
        String v = qualifiedView;
        String rebuilding = "(SELECT why FROM __mv_decision) IS NOT NULL";
        String applying = "(SELECT why FROM __mv_decision) IS NULL";
        StringJoiner oids = new StringJoiner(",", "'{", "}'::oid[]");
        sources.forEach(o -> oids.add(Long.toString(o)));
        List<String> ctes = new ArrayList<>();
        List<String> counted = new ArrayList<>();
        ctes.add("__mv_cap AS MATERIALIZED (SELECT (c.stopped_at IS NOT NULL OR c.deadline < clock_timestamp()"
                + " OR c.restarted_at >= $3::timestamptz) AS lost FROM " + capture + " c)");
        ctes.add("__mv_pending AS MATERIALIZED (SELECT ch.relid, count(*) AS n, bool_or(ch.op = 't') AS truncated FROM "
                + log + " ch WHERE ch.relid = ANY (" + oids + ")"
                + " AND NOT pg_catalog.pg_visible_in_snapshot(ch.xact, $1::pg_snapshot) GROUP BY ch.relid)");
        ctes.add("__mv_decision AS MATERIALIZED (SELECT CASE"
                + " WHEN $1::pg_snapshot IS NULL THEN 'first population'"
                + " WHEN (SELECT lost FROM __mv_cap) THEN 'change capture was stopped or restarted since the last refresh'"
                + " WHEN $4::boolean THEN 'the columns of a source table changed'"
                + " WHEN EXISTS (SELECT 1 FROM __mv_pending WHERE truncated) THEN 'TRUNCATE of '"
                + " || (SELECT string_agg(relid::regclass::text, ', ') FROM __mv_pending WHERE truncated)"
                + " ELSE (SELECT p.n || ' change rows of ' || p.relid::regclass::text || ' are more than '"
                + " || $2::float8 || ' of its ' || c.reltuples::bigint || ' rows'"
                + " FROM __mv_pending p JOIN pg_catalog.pg_class c ON c.oid = p.relid"
                + " WHERE p.n >= 1000 AND p.n > $2::float8 * greatest(c.reltuples, 0) ORDER BY p.n DESC LIMIT 1)"
                + " END AS why, (SELECT coalesce(sum(n), 0) FROM __mv_pending)::bigint AS change_rows)");
        distinctTables().forEach(table -> ctes.add(logCteDefinition(table, applying)));
        List<String> terms = new ArrayList<>();
        deltaStates().forEach(states -> terms.add(term(states, applying)));
        ctes.add("__mv_d AS MATERIALIZED (" + aggregate(terms) + ")");
        // rebuild: every row goes, the definition's rows come (one snapshot: the delete does not see them)
        ctes.add("__mv_clear AS (DELETE FROM " + v + " WHERE " + rebuilding + " RETURNING 1)");
        String fill;
        if (shape == Shape.ROWS) {
            // a plain select's rows are the definition's own: no need to count them first
            StringJoiner select = new StringJoiner(", ");
            keyExpressions.forEach(select::add);
            fill = "INSERT INTO " + v + " (" + columnList() + ") SELECT " + select + " FROM " + query.from()
                    + " WHERE " + (query.where == null ? "" : "(" + query.where + ") AND ") + rebuilding + " RETURNING 1";
        } else {
            fill = "INSERT INTO " + v + " (" + columnList() + ") SELECT " + String.join(", ", fullValues("__mv_f"))
                    + " FROM __mv_f WHERE " + rebuilding
                    + (shape == Shape.GROUPED && keyExpressions.isEmpty() ? "" : " AND __mv_f.__mv_count > 0") + " RETURNING 1";
            ctes.add("__mv_f AS MATERIALIZED (" + aggregate(List.of(term(fullStates(), rebuilding))) + ")");
        }
        ctes.add("__mv_fill AS (" + fill + ")");
        counted.add("__mv_clear");
        counted.add("__mv_fill");
        switch (shape) {
            case ROWS -> rows(v, ctes, counted);
            case DISTINCT -> distinct(v, ctes, counted);
            case GROUPED -> grouped(v, ctes, counted);
        }
        StringJoiner touched = new StringJoiner(" + ");
        counted.forEach(c -> touched.add("(SELECT count(*) FROM " + c + ")"));
        return "WITH " + String.join(",\n", ctes) + "\nSELECT (SELECT why FROM __mv_decision) AS why,"
                + " (SELECT change_rows FROM __mv_decision) AS change_rows, (" + touched + ")::bigint AS touched,"
                + " pg_catalog.pg_current_snapshot()::text AS snap";
    }

    private void rows(String v, List<String> ctes, List<String> counted) {
        StringJoiner keys = new StringJoiner(", ");
        for (int k = 0; k < keyColumns.size(); k++) {
            keys.add("__mv_d.__mv_k" + (k + 1));
        }
        String doomed = bothWaysUnion(nullSafe -> "SELECT __mv_v.ctid AS tid, row_number() OVER (PARTITION BY __mv_d.__mv_i"
                + " ORDER BY __mv_v.ctid) AS rn, -__mv_d.__mv_count AS k FROM " + v + " __mv_v JOIN __mv_d ON "
                + match("__mv_v", "__mv_d", nullSafe) + " WHERE " + (nullSafe ? "NOT " : "") + "__mv_d.__mv_nn"
                + " AND __mv_d.__mv_count < 0");
        ctes.add("__mv_gone AS (DELETE FROM " + v + " WHERE ctid = ANY (ARRAY(SELECT __mv_w.tid FROM (" + doomed
                + ") __mv_w WHERE __mv_w.rn <= __mv_w.k)) RETURNING 1)");
        ctes.add("__mv_added AS (INSERT INTO " + v + " (" + columnList() + ") SELECT " + keys + " FROM __mv_d"
                + " CROSS JOIN LATERAL generate_series(1, __mv_d.__mv_count) WHERE __mv_d.__mv_count > 0 RETURNING 1)");
        counted.add("__mv_gone");
        counted.add("__mv_added");
    }

    /** Both ways of matching: by equality (hashable, indexable) for all-non-null keys, null-safe for the rest. */
    private String bothWaysUnion(java.util.function.Function<Boolean, String> select) {
        return select.apply(false) + " UNION ALL " + select.apply(true);
    }

    private void distinct(String v, List<String> ctes, List<String> counted) {
        for (boolean nullSafe : new boolean[]{false, true}) {
            String s = nullSafe ? "2" : "1";
            String which = (nullSafe ? "NOT " : "") + "__mv_d.__mv_nn AND " + match("__mv_v", "__mv_d", nullSafe);
            ctes.add("__mv_up" + s + " AS (UPDATE " + v + " __mv_v SET \"__count\" = __mv_v.\"__count\" + __mv_d.__mv_count"
                    + " FROM __mv_d WHERE " + which + " AND __mv_v.\"__count\" + __mv_d.__mv_count > 0 RETURNING 1)");
            ctes.add("__mv_gone" + s + " AS (DELETE FROM " + v + " __mv_v USING __mv_d WHERE " + which
                    + " AND __mv_v.\"__count\" + __mv_d.__mv_count <= 0 RETURNING 1)");
            counted.add("__mv_up" + s);
            counted.add("__mv_gone" + s);
        }
        ctes.add("__mv_added AS (INSERT INTO " + v + " (" + columnList() + ") " + newGroups(v, null) + " RETURNING 1)");
        counted.add("__mv_added");
    }

    /** The summed changes of groups (or rows) the view does not have yet, as rows of the table. */
    private String newGroups(String v, String r) {
        String from = "__mv_d" + (r == null ? "" : " LEFT JOIN __mv_r ON " + recomputedMatch());
        return bothWaysUnion(nullSafe -> "SELECT " + String.join(", ", values("__mv_d", r == null ? null : "__mv_r"))
                + " FROM " + from + " WHERE " + (nullSafe ? "NOT " : "") + "__mv_d.__mv_nn AND __mv_d.__mv_count > 0"
                + " AND NOT EXISTS (SELECT 1 FROM " + v + " __mv_v WHERE " + match("__mv_v", "__mv_d", nullSafe) + ")");
    }

    private String recomputedMatch() {
        StringJoiner out = new StringJoiner(" AND ");
        for (int k = 0; k < keyExpressions.size(); k++) {
            out.add("__mv_r.__mv_k" + (k + 1) + " IS NOT DISTINCT FROM __mv_d.__mv_k" + (k + 1));
        }
        return out.length() == 0 ? "true" : out.toString();
    }

    private boolean hasMinMax() {
        return columns.stream().anyMatch(c -> c.aggregate() != null
                && (c.aggregate().function().equals("min") || c.aggregate().function().equals("max")));
    }

    /** Groups that lost a row holding their min or max, re-aggregated from the sources as they are now. */
    private String recomputed() {
        StringJoiner select = new StringJoiner(", ");
        StringJoiner keys = new StringJoiner(", ");
        StringJoiner dKeys = new StringJoiner(", ");
        StringJoiner nullSafe = new StringJoiner(" AND ");
        for (int k = 0; k < keyExpressions.size(); k++) {
            String e = keyExpressions.get(k);
            select.add(e + " AS __mv_k" + (k + 1));
            keys.add(e);
            dKeys.add("__mv_k" + (k + 1));
            nullSafe.add("__mv_k" + (k + 1) + " IS NOT DISTINCT FROM (" + e + ")");
        }
        for (int c = 0; c < columns.size(); c++) {
            Aggregate a = columns.get(c).aggregate();
            if (a != null && (a.function().equals("min") || a.function().equals("max"))) {
                select.add(a.function() + "(" + a.argument() + ") AS __mv_x" + (c + 1));
            }
        }
        String dirtyGroups = keyExpressions.isEmpty() ? "true"
                : "((" + keys + ") IN (SELECT " + dKeys + " FROM __mv_d WHERE __mv_dirty AND __mv_nn)"
                + " OR EXISTS (SELECT 1 FROM __mv_d WHERE __mv_dirty AND NOT __mv_nn AND " + nullSafe + "))";
        String where = (query.where == null ? "" : "(" + query.where + ") AND ")
                + "(SELECT coalesce(bool_or(__mv_dirty), false) FROM __mv_d) AND " + dirtyGroups;
        return "SELECT " + select + " FROM " + query.from() + " WHERE " + where
                + (keyExpressions.isEmpty() ? "" : " GROUP BY " + keys);
    }

    private void grouped(String v, List<String> ctes, List<String> counted) {
        boolean minMax = hasMinMax();
        if (minMax) {
            ctes.add("__mv_r AS MATERIALIZED (" + recomputed() + ")");
        }
        String r = minMax ? "__mv_r" : null;
        StringJoiner set = new StringJoiner(", ");
        set.add("\"__count\" = __mv_v.\"__count\" + __mv_d.__mv_count");
        for (int c = 0; c < columns.size(); c++) {
            Column col = columns.get(c);
            Aggregate a = col.aggregate();
            if (a == null) {
                continue;
            }
            int n = c + 1;
            String name = quote(col.name());
            String vc = "__mv_v." + name;
            String nn = "__mv_v.\"__nn_" + n + "\" + __mv_d.__mv_n" + n;
            switch (a.function()) {
                case "count" -> set.add(name + " = " + vc + " + __mv_d.__mv_c" + n);
                case "sum" -> {
                    set.add(name + " = " + added(vc, "__mv_d.__mv_s" + n, nn));
                    set.add("\"__nn_" + n + "\" = " + nn);
                }
                case "avg" -> {
                    String sum = added("__mv_v.\"__sum_" + n + "\"", "__mv_d.__mv_s" + n, nn);
                    set.add("\"__sum_" + n + "\" = " + sum);
                    set.add("\"__nn_" + n + "\" = " + nn);
                    set.add(name + " = CASE WHEN " + nn + " = 0 THEN NULL ELSE " + average(sum, nn, a) + " END");
                }
                default -> {
                    set.add(name + " = CASE WHEN " + nn + " = 0 THEN NULL WHEN __mv_d.__mv_dirty THEN __mv_r.__mv_x" + n
                            + " ELSE " + (a.function().equals("min") ? "least" : "greatest") + "(" + vc
                            + ", __mv_d.__mv_x" + n + ") END");
                    set.add("\"__nn_" + n + "\" = " + nn);
                }
            }
        }
        String from = "__mv_d" + (minMax ? " LEFT JOIN __mv_r ON " + recomputedMatch() : "");
        if (keyExpressions.isEmpty()) {
            // one row, always there: only updated
            ctes.add("__mv_up1 AS (UPDATE " + v + " __mv_v SET " + set + " FROM " + from
                    + " WHERE (SELECT why FROM __mv_decision) IS NULL RETURNING 1)");
            counted.add("__mv_up1");
            return;
        }
        for (boolean nullSafe : new boolean[]{false, true}) {
            String s = nullSafe ? "2" : "1";
            String which = (nullSafe ? "NOT " : "") + "__mv_d.__mv_nn AND " + match("__mv_v", "__mv_d", nullSafe);
            ctes.add("__mv_up" + s + " AS (UPDATE " + v + " __mv_v SET " + set + " FROM " + from + " WHERE " + which
                    + " AND __mv_v.\"__count\" + __mv_d.__mv_count > 0 RETURNING 1)");
            ctes.add("__mv_gone" + s + " AS (DELETE FROM " + v + " __mv_v USING __mv_d WHERE " + which
                    + " AND __mv_v.\"__count\" + __mv_d.__mv_count <= 0 RETURNING 1)");
            counted.add("__mv_up" + s);
            counted.add("__mv_gone" + s);
        }
        ctes.add("__mv_added AS (INSERT INTO " + v + " (" + columnList() + ") " + newGroups(v, r) + " RETURNING 1)");
        counted.add("__mv_added");
    }

    /** A kept sum plus a summed change: null once no value is left, either side's null ignored. */
    private static String added(String kept, String change, String nonNullCount) {
        return "CASE WHEN " + nonNullCount + " = 0 THEN NULL WHEN " + kept + " IS NULL THEN " + change + " WHEN " + change
                + " IS NULL THEN " + kept + " ELSE " + kept + " + " + change + " END";
    }

    static String quote(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }
}
