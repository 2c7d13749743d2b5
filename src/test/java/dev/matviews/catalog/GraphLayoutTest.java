package dev.matviews.catalog;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ELK's drawing of generated dependency graphs: layered in dependency order, no box on another, every edge drawn. */
class GraphLayoutTest {

    /** Relations 0..n-1, an edge only from a lower to a higher number (a DAG, as views over relations are). */
    @Provide
    Arbitrary<DependencyGraph> graphs() {
        return Arbitraries.integers().between(1, 60).flatMap(size -> {
            Arbitrary<List<int[]>> edges = Combinators.combine(Arbitraries.integers().between(0, size - 1),
                    Arbitraries.integers().between(0, size - 1)).as((a, b) -> new int[]{a, b}).list().ofMaxSize(size * 2);
            Arbitrary<List<Integer>> kinds = Arbitraries.integers().between(0, 3).list().ofSize(size);
            Arbitrary<List<Integer>> nameLengths = Arbitraries.integers().between(1, 80).list().ofSize(size);
            return Combinators.combine(edges, kinds, nameLengths).as((es, ks, lengths) -> {
                String[] kind = {"table", "view", "materialized view", "incremental view"};
                List<DependencyGraph.Node> nodes = new ArrayList<>();
                for (int i = 0; i < size; i++) {
                    String name = "n" + i + "x".repeat(lengths.get(i));
                    nodes.add(new DependencyGraph.Node("s." + name, "s", name, kind[ks.get(i)],
                            ks.get(i) >= 2 && i % 2 == 0 ? UUID.randomUUID() : null));
                }
                Set<String> seen = new LinkedHashSet<>();
                List<DependencyGraph.Edge> list = new ArrayList<>();
                for (int[] e : es) {
                    int from = Math.min(e[0], e[1]), to = Math.max(e[0], e[1]);
                    if (from != to && seen.add(from + ">" + to)) {
                        list.add(new DependencyGraph.Edge(nodes.get(from).id(), nodes.get(to).id()));
                    }
                }
                return new DependencyGraph(nodes, list);
            });
        });
    }

    @Property(tries = 150)
    void everyNodeAndEdgeIsDrawnLayeredWithoutOverlap(@ForAll("graphs") DependencyGraph graph) {
        GraphLayout layout = GraphLayoutService.layout(graph);
        Map<String, GraphLayout.Box> boxes = new HashMap<>();
        layout.nodes().forEach(b -> boxes.put(b.id(), b));
        assertEquals(graph.nodes().size(), layout.nodes().size());
        assertEquals(graph.nodes().size(), boxes.size(), "each node once");
        for (DependencyGraph.Node n : graph.nodes()) {
            GraphLayout.Box b = boxes.get(n.id());
            assertTrue(b.x() >= 0 && b.y() >= 0 && b.x() + b.width() <= layout.width() + 0.5
                    && b.y() + b.height() <= layout.height() + 0.5, "inside the drawing: " + b);
            assertEquals(n.registrationId() != null ? 38 : 24, b.height());
            assertTrue(b.label().length() <= GraphLayoutService.MAX_LABEL);
        }
        List<GraphLayout.Box> all = layout.nodes();
        for (int i = 0; i < all.size(); i++) {
            for (int j = i + 1; j < all.size(); j++) {
                GraphLayout.Box a = all.get(i), b = all.get(j);
                boolean apart = a.x() + a.width() <= b.x() || b.x() + b.width() <= a.x()
                        || a.y() + a.height() <= b.y() || b.y() + b.height() <= a.y();
                assertTrue(apart, a + " overlaps " + b);
            }
        }
        assertEquals(graph.edges().size(), layout.edges().size());
        for (GraphLayout.Route r : layout.edges()) {
            GraphLayout.Box from = boxes.get(r.from()), to = boxes.get(r.to());
            assertTrue(from.x() + from.width() < to.x(), "what is read stands left of what reads it: " + r);
            assertTrue(r.points().size() >= 2);
            GraphLayout.Point start = r.points().get(0), end = r.points().get(r.points().size() - 1);
            assertEquals(from.x() + from.width(), start.x(), 0.5, "leaves its source's right side");
            assertEquals(to.x(), end.x(), 0.5, "reaches its reader's left side");
        }
    }

    @Test
    void aLongNameIsCutAndTheSameGraphIsDrawnTheSameWay() {
        String longName = "s." + "y".repeat(100);
        DependencyGraph graph = new DependencyGraph(List.of(
                new DependencyGraph.Node("s.t", "s", "t", "table", null),
                new DependencyGraph.Node(longName, "s", "y".repeat(100), "materialized view", UUID.randomUUID())),
                List.of(new DependencyGraph.Edge("s.t", longName)));
        GraphLayout first = GraphLayoutService.layout(graph);
        assertEquals(GraphLayoutService.MAX_LABEL, first.nodes().get(1).label().length());
        assertTrue(first.nodes().get(1).label().endsWith("\u2026"));
        assertEquals(first, GraphLayoutService.layout(graph));
        assertFalse(GraphLayoutService.key(graph).equals(GraphLayoutService.key(new DependencyGraph(graph.nodes(), List.of()))));
    }
}
