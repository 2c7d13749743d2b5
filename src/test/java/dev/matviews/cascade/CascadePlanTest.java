package dev.matviews.cascade;

import dev.matviews.catalog.DependencyGraph;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cascade plan against the graph's own reachability, on generated graphs: random DAGs of
 * tables, plain views and matviews, with a random subset of the matviews registered.
 */
class CascadePlanTest {

    /** A generated graph: node i may read only nodes below i, so it is acyclic by construction. */
    record Dag(int size, List<int[]> edges, Set<Integer> registered, int rootChoice) {

        DependencyGraph graph() {
            List<DependencyGraph.Node> nodes = new ArrayList<>();
            for (int i = 0; i < size; i++) {
                String kind = i < 3 ? "table" : i % 4 == 0 ? "view" : "materialized view";
                UUID reg = registered.contains(i) && kind.equals("materialized view") ? id(i) : null;
                nodes.add(new DependencyGraph.Node("s.n" + i, "s", "n" + String.format("%03d", i), kind, reg));
            }
            List<DependencyGraph.Edge> list = new ArrayList<>();
            for (int[] e : edges) {
                list.add(new DependencyGraph.Edge("s.n" + e[0], "s.n" + e[1]));
            }
            return new DependencyGraph(nodes, list);
        }

        List<UUID> registeredIds() {
            return graph().nodes().stream().filter(n -> n.registrationId() != null)
                    .map(DependencyGraph.Node::registrationId).toList();
        }

        /** Whether a path leads from node a to node b (a reads-chain, any kinds). */
        boolean reaches(int a, int b) {
            Map<Integer, List<Integer>> out = new HashMap<>();
            edges.forEach(e -> out.computeIfAbsent(e[0], k -> new ArrayList<>()).add(e[1]));
            Set<Integer> seen = new HashSet<>();
            List<Integer> todo = new ArrayList<>(List.of(a));
            while (!todo.isEmpty()) {
                int n = todo.remove(todo.size() - 1);
                if (n == b && n != a) {
                    return true;
                }
                if (seen.add(n)) {
                    todo.addAll(out.getOrDefault(n, List.of()));
                }
            }
            return false;
        }
    }

    static UUID id(int i) {
        return new UUID(0, i);
    }

    static int index(UUID id) {
        return (int) id.getLeastSignificantBits();
    }

    @Provide
    Arbitrary<Dag> dags() {
        return Arbitraries.integers().between(4, 40).flatMap(size -> {
            Arbitrary<List<int[]>> edges = Arbitraries.integers().between(0, size * size).list().ofMaxSize(size * 3)
                    .map(codes -> {
                        List<int[]> result = new ArrayList<>();
                        Set<Long> seen = new HashSet<>();
                        for (int code : codes) {
                            int to = 3 + code % (size - 3);
                            int from = (code / size) % to;
                            if (seen.add((long) from * size + to)) {
                                result.add(new int[]{from, to});
                            }
                        }
                        return result;
                    });
            Arbitrary<Set<Integer>> registered = Arbitraries.integers().between(0, size - 1).set().ofMaxSize(size);
            return Combinators.combine(edges, registered, Arbitraries.integers().between(0, 1000))
                    .as((e, r, root) -> new Dag(size, e, r, root));
        });
    }

    @Property(tries = 300)
    void everyPlanIsTopologicalAndHasExactlyTheViewsItShould(@ForAll("dags") Dag dag) {
        List<UUID> registered = dag.registeredIds();
        DependencyGraph graph = dag.graph();
        assertPlan(dag, CascadePlan.of(graph, CascadePlan.Direction.ALL, null), new HashSet<>(registered));
        if (registered.isEmpty()) {
            return;
        }
        UUID root = registered.get(dag.rootChoice() % registered.size());
        int r = index(root);
        Set<UUID> down = new HashSet<>(List.of(root));
        Set<UUID> up = new HashSet<>(List.of(root));
        for (UUID other : registered) {
            if (dag.reaches(r, index(other))) {
                down.add(other);
            }
            if (dag.reaches(index(other), r)) {
                up.add(other);
            }
        }
        assertPlan(dag, CascadePlan.of(graph, CascadePlan.Direction.DOWNSTREAM, root), down);
        assertPlan(dag, CascadePlan.of(graph, CascadePlan.Direction.UPSTREAM, root), up);
    }

    /** Leaving views out (sources a target job reads as they are) keeps the order among the rest, at any depth. */
    @Property(tries = 300)
    void aPlanWithoutSomeViewsKeepsTheOrderOfTheRest(@ForAll("dags") Dag dag, @ForAll long leftChoice) {
        List<UUID> registered = dag.registeredIds();
        if (registered.isEmpty()) {
            return;
        }
        for (CascadePlan.Direction direction : CascadePlan.Direction.values()) {
            UUID root = direction == CascadePlan.Direction.ALL ? null : registered.get(dag.rootChoice() % registered.size());
            CascadePlan plan = CascadePlan.of(dag.graph(), direction, root);
            Set<UUID> left = new HashSet<>();
            Set<UUID> kept = new HashSet<>();
            java.util.Random random = new java.util.Random(leftChoice);
            for (CascadePlan.Node n : plan.nodes()) {
                (random.nextBoolean() ? left : kept).add(n.registrationId());
            }
            assertPlan(dag, plan.without(left), kept);
        }
    }

    private static void assertPlan(Dag dag, CascadePlan plan, Set<UUID> expected) {
        List<UUID> order = plan.nodes().stream().map(CascadePlan.Node::registrationId).toList();
        assertEquals(expected, new HashSet<>(order), "the views of the plan");
        assertEquals(order.size(), new HashSet<>(order).size(), "each view once");
        Map<UUID, Set<UUID>> waitsFor = new HashMap<>();
        for (CascadePlan.Node n : plan.nodes()) {
            Set<UUID> all = new HashSet<>();
            for (UUID p : n.after()) {
                assertTrue(order.indexOf(p) < order.indexOf(n.registrationId()), "a parent comes first");
                all.add(p);
                all.addAll(waitsFor.get(p));
            }
            waitsFor.put(n.registrationId(), all);
        }
        // Whatever reads another view of the plan, at any depth and through anything, waits for it.
        for (UUID a : order) {
            for (UUID b : order) {
                if (dag.reaches(index(a), index(b))) {
                    assertTrue(waitsFor.get(b).contains(a), index(b) + " waits for " + index(a));
                } else {
                    assertTrue(!waitsFor.get(b).contains(a), index(b) + " does not wait for " + index(a));
                }
            }
        }
    }

    @Test
    void aFailedNodeTakesExactlyItsDescendantsWithIt() {
        // t -> a -> b -> d ; a -> c ; e on its own
        List<DependencyGraph.Node> nodes = new ArrayList<>(List.of(
                new DependencyGraph.Node("s.t", "s", "t", "table", null)));
        for (String n : List.of("a", "b", "c", "d", "e")) {
            nodes.add(new DependencyGraph.Node("s." + n, "s", n, "materialized view", id(n.charAt(0))));
        }
        DependencyGraph graph = new DependencyGraph(nodes, List.of(new DependencyGraph.Edge("s.t", "s.a"),
                new DependencyGraph.Edge("s.a", "s.b"), new DependencyGraph.Edge("s.b", "s.d"),
                new DependencyGraph.Edge("s.a", "s.c"), new DependencyGraph.Edge("s.t", "s.e")));
        CascadePlan all = CascadePlan.of(graph, CascadePlan.Direction.ALL, null);
        assertEquals(List.of("a", "b", "c", "d", "e"), all.nodes().stream().map(CascadePlan.Node::viewName).toList());
        assertEquals(Set.of(id('d')), all.descendantsOf(id('b')));
        assertEquals(Set.of(id('b'), id('c'), id('d')), all.descendantsOf(id('a')));
        assertEquals(Set.of(), all.descendantsOf(id('e')));
    }

    @Test
    void refreshAllOverOneSchemaOrdersItsViewsThroughRegisteredViewsOfOtherSchemas() {
        // s.a -> o.m (registered, another schema) -> s.b ; s.c on its own
        UUID a = id('a');
        UUID m = id('m');
        UUID b = id('b');
        UUID c = id('c');
        DependencyGraph graph = new DependencyGraph(List.of(
                new DependencyGraph.Node("s.a", "s", "a", "materialized view", a),
                new DependencyGraph.Node("o.m", "o", "m", "materialized view", m),
                new DependencyGraph.Node("s.b", "s", "b", "materialized view", b),
                new DependencyGraph.Node("s.c", "s", "c", "materialized view", c)),
                List.of(new DependencyGraph.Edge("s.a", "o.m"), new DependencyGraph.Edge("o.m", "s.b")));
        CascadePlan plan = CascadePlan.of(graph, CascadePlan.Direction.ALL, null, "s");
        assertEquals(List.of("a", "b", "c"), plan.nodes().stream().map(CascadePlan.Node::viewName).toList());
        assertEquals(List.of(a), plan.nodes().get(1).after(), "b still waits for a, read through o.m");
        assertEquals(List.of(), plan.nodes().get(2).after());
        assertEquals(4, CascadePlan.of(graph, CascadePlan.Direction.ALL, null, null).nodes().size());
    }
}
