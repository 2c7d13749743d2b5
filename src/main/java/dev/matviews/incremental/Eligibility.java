package dev.matviews.incremental;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Whether a definition, as PostgreSQL parsed it (its query tree), can be maintained
 * incrementally, and if not every construct that prevents it. The first version maintains inner
 * joins of plain tables, WHERE and select lists over immutable expressions, GROUP BY with count,
 * sum, avg, min and max, and DISTINCT (docs/incremental.md).
 */
public final class Eligibility {

    /** The catalog facts the tree refers to by oid. */
    public record Catalog(Map<Long, Relation> relations, Map<Long, Function> functions, Map<Long, String> typeIoVolatility) {
    }

    public record Relation(String schema, String name, String kind, boolean hasChildren) {
        public Relation(String schema, String name, String kind) {
            this(schema, name, kind, false);
        }

        String qualified() {
            return schema + "." + name;
        }
    }

    public record Function(String schema, String name, String volatility, String kind) {
        String qualified() {
            return schema + "." + name;
        }
    }

    /** The oids a tree refers to, for the catalog lookup. */
    public record Needs(Set<Long> relations, Set<Long> functions, Set<Long> types) {
    }

    /** The answer: eligible when there is no reason against it; the tables it reads. */
    public record Result(List<String> reasons, List<String> sources) {
        public boolean eligible() {
            return reasons.isEmpty();
        }
    }

    static final Set<String> AGGREGATES = Set.of("count", "sum", "avg", "min", "max");
    /** Result types of sum and avg that are exact under addition and subtraction: bigint, numeric, money, interval. */
    static final Set<String> EXACT_SUMS = Set.of("20", "1700", "790", "1186");
    private static final Set<String> FUNCTION_FIELDS = Set.of("funcid", "opfuncid", "aggfnoid", "winfnoid");
    private static final String[] JOIN_TYPES = {"inner", "LEFT", "FULL", "RIGHT", "semi", "anti"};

    private Eligibility() {
    }

    /** The single QUERY node of a view's stored rule. */
    public static NodeTree.Node query(Object evAction) {
        Object value = evAction instanceof List<?> l && l.size() == 1 ? l.get(0) : evAction;
        if (value instanceof NodeTree.Node n && n.type().equals("QUERY")) {
            return n;
        }
        throw new IllegalArgumentException("not a view's query tree");
    }

    public static Needs needs(NodeTree.Node query) {
        Set<Long> relations = new LinkedHashSet<>();
        Set<Long> functions = new LinkedHashSet<>();
        Set<Long> types = new LinkedHashSet<>();
        NodeTree.walk(query, n -> {
            // a range table entry: RTE up to PostgreSQL 14, RANGETBLENTRY since 15
            if ((n.type().equals("RANGETBLENTRY") || n.type().equals("RTE")) && "0".equals(n.text("rtekind"))
                    && n.text("relid") != null) {
                relations.add(Long.parseLong(n.text("relid")));
            }
            for (String field : FUNCTION_FIELDS) {
                oid(n.text(field)).ifPresent(functions::add);
            }
            if (n.type().equals("COERCEVIAIO")) {
                oid(n.text("resulttype")).ifPresent(types::add);
                oid(exprType(firstArg(n))).ifPresent(types::add);
            }
        });
        return new Needs(relations, functions, types);
    }

    public static Result check(NodeTree.Node query, List<String> columns, Catalog catalog) {
        return check(query, columns, Map.of(), catalog);
    }

    /**
     * @param incomparable output columns whose type has no default btree equality, with the type:
     *                     the apply step matches rows by equality, so it could not maintain them
     */
    public static Result check(NodeTree.Node query, List<String> columns, Map<String, String> incomparable,
                               Catalog catalog) {
        Set<String> reasons = new LinkedHashSet<>();
        flag(query, "hasWindowFuncs", "a window function", reasons);
        flag(query, "hasSubLinks", "a subquery in an expression (IN, EXISTS, ANY or a scalar subquery)", reasons);
        flag(query, "hasTargetSRFs", "a set-returning function in the select list", reasons);
        flag(query, "hasDistinctOn", "DISTINCT ON", reasons);
        flag(query, "hasForUpdate", "FOR UPDATE or FOR SHARE", reasons);
        if (query.isSet("cteList") || query.flag("hasRecursive")) {
            reasons.add("a WITH query (common table expression)");
        }
        set(query, "havingQual", "HAVING", reasons);
        set(query, "sortClause", "ORDER BY", reasons);
        if (query.isSet("limitCount") || query.isSet("limitOffset")) {
            reasons.add("LIMIT, OFFSET or FETCH");
        }
        set(query, "setOperations", "a set operation (UNION, INTERSECT or EXCEPT)", reasons);
        set(query, "groupingSets", "GROUPING SETS, ROLLUP or CUBE", reasons);
        List<String> sources = new ArrayList<>();
        int fromItems = 0;
        for (Object entry : query.list("rtable")) {
            if (entry instanceof NodeTree.Node rte && rte.flag("inFromCl")) {
                fromItems++;
                fromItem(rte, catalog, reasons, sources);
            }
        }
        if (fromItems == 0) {
            reasons.add("it reads no table");
        }
        for (Object entry : query.list("targetList")) {
            if (entry instanceof NodeTree.Node tle && !tle.flag("resjunk")) {
                NodeTree.Node expr = tle.node("expr");
                if (expr != null && !expr.type().equals("AGGREF") && contains(expr, "AGGREF")) {
                    reasons.add("an expression over an aggregate (column " + tle.text("resname") + "): select the"
                            + " aggregate itself and compute on it where the view is read");
                }
            }
        }
        grouping(query, reasons);
        NodeTree.walk(query, n -> expression(n, catalog, reasons));
        incomparable.forEach((column, type) -> reasons.add("the column " + column + " of type " + type
                + ", which has no equality operator to match its rows by"));
        for (String column : columns) {
            if (column.startsWith("__")) {
                reasons.add("the column " + column + ": names starting with __ are kept for bookkeeping");
            }
        }
        return new Result(List.copyOf(reasons), List.copyOf(sources));
    }

    /**
     * What the maintenance needs of a grouped or DISTINCT query: each output column is a group key
     * or an aggregate (PostgreSQL also allows columns that depend on a grouped primary key).
     */
    private static void grouping(NodeTree.Node query, Set<String> reasons) {
        boolean grouped = query.flag("hasAggs") || query.isSet("groupClause");
        if (grouped && query.isSet("distinctClause")) {
            reasons.add("DISTINCT over grouped rows (not yet)");
        }
        if (!grouped) {
            return;
        }
        Set<String> keys = new java.util.HashSet<>();
        for (Object c : query.list("groupClause")) {
            if (c instanceof NodeTree.Node clause) {
                keys.add(clause.text("tleSortGroupRef"));
            }
        }
        for (Object entry : query.list("targetList")) {
            if (entry instanceof NodeTree.Node tle && !tle.flag("resjunk")) {
                NodeTree.Node expr = tle.node("expr");
                boolean key = keys.contains(tle.text("ressortgroupref"));
                if (!key && (expr == null || !expr.type().equals("AGGREF")) && (expr == null || !contains(expr, "AGGREF"))) {
                    reasons.add("the column " + tle.text("resname") + ", neither in GROUP BY nor an aggregate (add it to"
                            + " GROUP BY)");
                }
            }
        }
    }

    private static void fromItem(NodeTree.Node rte, Catalog catalog, Set<String> reasons, List<String> sources) {
        String kind = rte.text("rtekind");
        switch (kind == null ? "" : kind) {
            case "0" -> {
                Relation r = catalog.relations().get(Long.parseLong(rte.text("relid")));
                if (r == null) {
                    reasons.add("a relation that is gone");
                    return;
                }
                if (r.schema().equals("pg_catalog") || r.schema().equals("information_schema")) {
                    reasons.add("the system catalog " + r.qualified());
                } else if (r.kind().equals("p")) {
                    reasons.add("the partitioned table " + r.qualified() + " (not yet: read its partitions)");
                } else if (r.kind().equals("r") && r.hasChildren()) {
                    reasons.add("the table " + r.qualified() + ", which has inheritance children (not yet)");
                } else if (r.kind().equals("r")) {
                    if (!sources.contains(r.qualified())) {
                        sources.add(r.qualified());
                    }
                } else {
                    reasons.add(switch (r.kind()) {
                        case "v" -> "the view " + r.qualified() + " (read its tables instead)";
                        case "m" -> "the materialized view " + r.qualified();
                        case "f" -> "the foreign table " + r.qualified();
                        default -> "the relation " + r.qualified() + " of kind " + r.kind();
                    });
                }
                if (rte.isSet("tablesample")) {
                    reasons.add("TABLESAMPLE");
                }
            }
            case "1" -> reasons.add("a subquery in FROM");
            case "2" -> {
                int type = parseInt(rte.text("jointype"));
                if (type != 0) {
                    reasons.add(type > 0 && type < 4 ? "a " + JOIN_TYPES[type] + " outer join" : "a semi or anti join");
                }
            }
            case "3" -> reasons.add("a function in FROM");
            case "4" -> reasons.add("a table function (XMLTABLE or JSON_TABLE) in FROM");
            case "5" -> reasons.add("VALUES in FROM");
            case "6" -> reasons.add("a WITH query (common table expression)");
            case "9" -> { } // PostgreSQL 18's grouping step
            default -> reasons.add("a FROM item of kind " + kind);
        }
    }

    private static void expression(NodeTree.Node n, Catalog catalog, Set<String> reasons) {
        switch (n.type()) {
            case "AGGREF" -> {
                Function f = catalog.functions().get(oid(n.text("aggfnoid")).orElse(-1L));
                if (f == null || !f.schema().equals("pg_catalog") || !AGGREGATES.contains(f.name())) {
                    reasons.add("the aggregate " + (f == null ? "?" : f.qualified()) + " (count, sum, avg, min and max are)");
                }
                if (f != null && (f.name().equals("sum") || f.name().equals("avg"))
                        && !EXACT_SUMS.contains(n.text("aggtype"))) {
                    reasons.add(f.name() + " over floating-point values (a sum kept by adding and subtracting differs"
                            + " from one recomputed: cast the argument to numeric)");
                }
                if (n.isSet("aggdistinct")) {
                    reasons.add("an aggregate over DISTINCT values");
                }
                if (n.isSet("aggfilter")) {
                    reasons.add("FILTER on an aggregate");
                }
                if (n.isSet("aggorder")) {
                    reasons.add("ORDER BY inside an aggregate");
                }
            }
            case "SQLVALUEFUNCTION" -> reasons.add("CURRENT_DATE, CURRENT_TIMESTAMP, CURRENT_USER or a similar value,"
                    + " which changes while the tables do not");
            case "NEXTVALUEEXPR" -> reasons.add("a sequence's next value");
            case "VAR" -> {
                if (parseInt(n.text("varattno")) < 0) {
                    reasons.add("a system column (ctid, xmin, xmax, cmin, cmax or tableoid), which changes while the"
                            + " row does not");
                }
            }
            case "COERCEVIAIO" -> {
                String from = exprType(firstArg(n));
                String to = n.text("resulttype");
                String a = from == null ? null : catalog.typeIoVolatility().get(Long.parseLong(from));
                String b = to == null ? null : catalog.typeIoVolatility().get(Long.parseLong(to));
                if (!"i".equals(a) || !"i".equals(b)) {
                    reasons.add("a cast through text whose result may depend on settings (such as text to timestamptz)");
                }
            }
            default -> { }
        }
        for (String field : FUNCTION_FIELDS) {
            if (field.equals("aggfnoid")) {
                continue;
            }
            oid(n.text(field)).ifPresent(id -> {
                Function f = catalog.functions().get(id);
                if (f != null && !f.volatility().equals("i")) {
                    reasons.add("the " + (f.volatility().equals("s") ? "stable" : "volatile") + " function " + f.qualified()
                            + " (its result may change while the tables do not)");
                }
            });
        }
    }

    private static NodeTree.Node firstArg(NodeTree.Node n) {
        Object arg = n.get("arg");
        return arg instanceof NodeTree.Node a ? a : null;
    }

    /** The type oid of common expression nodes, null when not known here. */
    static String exprType(NodeTree.Node n) {
        if (n == null) {
            return null;
        }
        return switch (n.type()) {
            case "VAR" -> n.text("vartype");
            case "CONST" -> n.text("consttype");
            case "FUNCEXPR" -> n.text("funcresulttype");
            case "OPEXPR" -> n.text("opresulttype");
            case "AGGREF" -> n.text("aggtype");
            case "RELABELTYPE", "COERCEVIAIO", "COERCETODOMAIN" -> n.text("resulttype");
            default -> null;
        };
    }

    private static boolean contains(NodeTree.Node root, String type) {
        boolean[] found = {false};
        NodeTree.walk(root, n -> found[0] |= n.type().equals(type));
        return found[0];
    }

    private static void flag(NodeTree.Node query, String field, String reason, Set<String> reasons) {
        if (query.flag(field)) {
            reasons.add(reason);
        }
    }

    private static void set(NodeTree.Node query, String field, String reason, Set<String> reasons) {
        if (query.isSet(field)) {
            reasons.add(reason);
        }
    }

    private static java.util.Optional<Long> oid(String text) {
        if (text == null) {
            return java.util.Optional.empty();
        }
        try {
            long value = Long.parseLong(text);
            return value > 0 ? java.util.Optional.of(value) : java.util.Optional.empty();
        } catch (NumberFormatException e) {
            return java.util.Optional.empty();
        }
    }

    private static int parseInt(String text) {
        try {
            return text == null ? -1 : Integer.parseInt(text);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
