package dev.matviews.incremental;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Example;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The node tree reader against trees written the way PostgreSQL's outfuncs.c writes them, generated. */
class NodeTreeTest {

    /** outfuncs.c's outToken: a leading <, quote or number-like start, and every delimiter and backslash, escaped. */
    static String token(String s) {
        StringBuilder out = new StringBuilder();
        if (s.isEmpty()) {
            return "\"\"";
        }
        char first = s.charAt(0);
        if (first == '<' || first == '"' || Character.isDigit(first)
                || ((first == '+' || first == '-') && s.length() > 1 && (Character.isDigit(s.charAt(1)) || s.charAt(1) == '.'))) {
            out.append('\\');
        }
        for (char c : s.toCharArray()) {
            if (c == ' ' || c == '\n' || c == '\t' || c == '(' || c == ')' || c == '{' || c == '}' || c == '\\') {
                out.append('\\');
            }
            out.append(c);
        }
        return out.toString();
    }

    /** A String node: its content outToken-escaped between quotes. */
    static String string(String s) {
        return "\"" + (s.isEmpty() ? "" : token(s)) + "\"";
    }

    static String write(Object value) {
        if (value == null) {
            return "<>";
        }
        if (value instanceof NodeTree.Node n) {
            StringBuilder out = new StringBuilder("{").append(n.type());
            n.fields().forEach((k, v) -> out.append(" :").append(k).append(' ').append(write(v)));
            return out.append('}').toString();
        }
        if (value instanceof List<?> l) {
            List<String> items = new ArrayList<>();
            l.forEach(v -> items.add(write(v)));
            return "(" + String.join(" ", items) + ")";
        }
        String text = (String) value;
        // a token and a String node read back the same; write some of each
        return text.hashCode() % 2 == 0 ? string(text) : token(text);
    }

    @Provide
    Arbitrary<Object> trees() {
        Arbitrary<String> names = Arbitraries.strings().withChars("abcXYZ _(){}\\\"<>:.-+1\t").ofMaxLength(8)
                .filter(s -> !s.startsWith(":"));
        return Arbitraries.recursive(() -> Arbitraries.oneOf(names, Arbitraries.just(null)), inner -> Arbitraries.oneOf(
                inner.list().ofMaxSize(3).map(l -> (Object) l),
                Arbitraries.maps(Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(6), inner).ofMaxSize(4)
                        .map(m -> (Object) new NodeTree.Node("NODE", new LinkedHashMap<>(m)))), 4);
    }

    @Property(tries = 500)
    void readsWhatPostgresWrites(@ForAll("trees") Object tree) {
        Object read = NodeTree.parse(write(tree));
        assertEquals(normal(tree), normal(read));
    }

    @Example
    void readsAConstantsDatumAsOneValue() {
        NodeTree.Node n = (NodeTree.Node) NodeTree.parse("{CONST :consttype 23 :constvalue 4 [ 1 0 0 0 0 0 0 0 ] :location 7}");
        assertEquals("7", n.text("location"));
        assertEquals(List.of("4", "1", "0", "0", "0", "0", "0", "0", "0"), n.list("constvalue"));
    }

    @Example
    void refusesWhatIsNotATree() {
        for (String bad : List.of("{QUERY :a", "(1 2", "{QUERY a}", "", "{QUERY :a 1} trailing")) {
            assertThrows(IllegalArgumentException.class, () -> NodeTree.parse(bad), bad);
        }
    }

    /** Empty lists and NULL read alike ("<>" is both in a tree). */
    private static Object normal(Object v) {
        if (v instanceof NodeTree.Node n) {
            Map<String, Object> fields = new LinkedHashMap<>();
            n.fields().forEach((k, x) -> fields.put(k, normal(x)));
            return fields;
        }
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            l.forEach(x -> out.add(normal(x)));
            return out;
        }
        return v;
    }
}
