package dev.matviews.incremental;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * PostgreSQL's stored query trees ({@code pg_node_tree}, as {@code nodeToString} writes them and
 * {@code pg_rewrite.ev_action} keeps a view's): {@code {NAME :field value ...}} nodes, {@code (...)}
 * lists, {@code <>} for NULL, and bare tokens. Read here so a definition can be analysed exactly as
 * PostgreSQL parsed it, instead of parsing SQL a second time. A value is a {@link Node}, a
 * {@link List} of values, a String token, or null.
 */
public final class NodeTree {

    /** A node: its type name (QUERY, RANGETBLENTRY, OPEXPR...) and its fields in order. */
    public record Node(String type, Map<String, Object> fields) {

        public Object get(String field) {
            return fields.get(field);
        }

        public String text(String field) {
            return fields.get(field) instanceof String s ? s : null;
        }

        public Node node(String field) {
            return fields.get(field) instanceof Node n ? n : null;
        }

        /** A list field's elements; empty for {@code <>}. */
        public List<Object> list(String field) {
            Object value = fields.get(field);
            return value instanceof List<?> l ? List.copyOf(l) : List.of();
        }

        public boolean isSet(String field) {
            Object value = fields.get(field);
            return value != null && !(value instanceof List<?> l && l.isEmpty());
        }

        public boolean flag(String field) {
            return "true".equals(fields.get(field));
        }
    }

    private final String text;
    private int pos;

    private NodeTree(String text) {
        this.text = text;
    }

    /** Parses a whole tree (a view's ev_action is a list of one QUERY node). */
    public static Object parse(String text) {
        NodeTree reader = new NodeTree(text);
        Object value = reader.value();
        reader.skipSpace();
        if (reader.pos != text.length()) {
            throw new IllegalArgumentException("unexpected text at " + reader.pos + " of a node tree");
        }
        return value;
    }

    /** Every node in {@code value}, depth first, parents before children. */
    public static void walk(Object value, Consumer<Node> visit) {
        if (value instanceof Node n) {
            visit.accept(n);
            n.fields().values().forEach(v -> walk(v, visit));
        } else if (value instanceof List<?> l) {
            l.forEach(v -> walk(v, visit));
        }
    }

    private void skipSpace() {
        while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
            pos++;
        }
    }

    private Object value() {
        skipSpace();
        if (pos >= text.length()) {
            throw new IllegalArgumentException("node tree ends early");
        }
        char c = text.charAt(pos);
        if (c == '{') {
            return node();
        }
        if (c == '(') {
            return list();
        }
        if (text.startsWith("<>", pos) && (pos + 2 == text.length() || delimiter(text.charAt(pos + 2)))) {
            pos += 2;
            return null; // an escaped \<> is the string "<>"
        }
        return token();
    }

    private Node node() {
        pos++; // {
        String type = token();
        Map<String, Object> fields = new LinkedHashMap<>();
        while (true) {
            skipSpace();
            if (pos >= text.length()) {
                throw new IllegalArgumentException("unclosed node " + type);
            }
            if (text.charAt(pos) == '}') {
                pos++;
                return new Node(type, fields);
            }
            String field = token();
            if (!field.startsWith(":")) {
                throw new IllegalArgumentException("expected a field of " + type + ", got " + field);
            }
            // most fields hold one value; a Const's datum is "len [ b b ... ]": kept as one list
            skipSpace();
            Object value = value();
            skipSpace();
            if (pos < text.length() && text.charAt(pos) == '[') {
                List<Object> datum = new ArrayList<>();
                datum.add(value);
                pos++; // [
                skipSpace();
                while (pos < text.length() && text.charAt(pos) != ']') {
                    datum.add(token());
                    skipSpace();
                }
                pos++; // ]
                value = datum;
            }
            fields.put(field.substring(1), value);
        }
    }

    private List<Object> list() {
        pos++; // (
        List<Object> items = new ArrayList<>();
        while (true) {
            skipSpace();
            if (pos >= text.length()) {
                throw new IllegalArgumentException("unclosed list");
            }
            if (text.charAt(pos) == ')') {
                pos++;
                return items;
            }
            items.add(value());
        }
    }

    /**
     * A token as read.c's pg_strtok reads it: up to an unescaped space, parenthesis or brace, a
     * backslash escaping the next character. A token in double quotes (a String node, as outfuncs.c
     * writes it) is its content without them: quotes inside are not escaped there, so the token's
     * end, not the next quote, ends it.
     */
    private String token() {
        skipSpace();
        int start = pos;
        StringBuilder out = new StringBuilder();
        boolean lastEscaped = false;
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (delimiter(c)) {
                break;
            }
            lastEscaped = false;
            if (c == '\\' && pos + 1 < text.length()) {
                pos++;
                c = text.charAt(pos);
                lastEscaped = true;
            }
            out.append(c);
            pos++;
        }
        if (pos == start) {
            throw new IllegalArgumentException("empty token at " + pos + " of a node tree");
        }
        boolean quoted = text.charAt(start) == '"' && out.length() >= 2 && out.charAt(out.length() - 1) == '"' && !lastEscaped;
        return quoted ? out.substring(1, out.length() - 1) : out.toString();
    }

    private static boolean delimiter(char c) {
        return Character.isWhitespace(c) || c == '(' || c == ')' || c == '{' || c == '}';
    }
}
