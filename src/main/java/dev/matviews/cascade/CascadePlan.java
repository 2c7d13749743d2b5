package dev.matviews.cascade;

import dev.matviews.db.DbEnum;
import dev.matviews.catalog.DependencyGraph;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Which registered views a cascade refreshes and in what order: the registered materialized views
 * of the dependency graph, with an edge from one to another whenever the second reads the first
 * directly or through anything unregistered (plain views, matviews nobody registered). A node
 * waits for its registered parents in the plan; parallel branches are free to overlap.
 *
 * @param nodes in a topological order (parents first, ties by name)
 */
public record CascadePlan(List<Node> nodes) {

    /** A view to refresh, and the views of this plan that must have succeeded before it starts. */
    public record Node(UUID registrationId, String schemaName, String viewName, List<UUID> after) {
    }

    public enum Direction implements DbEnum {
        /** The view, then every registered view that reads it, at any depth. */
        DOWNSTREAM,
        /** Every registered view the view reads, at any depth, then the view. */
        UPSTREAM,
        /** Every registered view. */
        ALL;

        @Override
        public String dbName() {
            return DbEnum.lowercase(this);
        }
    }

    /** The plan for {@code root} (null with ALL) over {@code graph}. */
    public static CascadePlan of(DependencyGraph graph, Direction direction, UUID root) {
        return of(graph, direction, root, null);
    }

    /**
     * The plan for {@code root} (null with ALL) over {@code graph}; with ALL and a schema, only
     * that schema's registered views, ordered through everything else as through unregistered views.
     */
    public static CascadePlan of(DependencyGraph graph, Direction direction, UUID root, String schemaName) {
        boolean limited = direction == Direction.ALL && schemaName != null;
        Map<String, DependencyGraph.Node> byId = new HashMap<>();
        Map<String, List<String>> readers = new HashMap<>();
        for (DependencyGraph.Node n : graph.nodes()) {
            byId.put(n.id(), n);
        }
        for (DependencyGraph.Edge e : graph.edges()) {
            readers.computeIfAbsent(e.from(), k -> new ArrayList<>()).add(e.to());
        }
        // Registered view -> the registered views that read it through unregistered nodes only.
        Map<UUID, DependencyGraph.Node> registered = new LinkedHashMap<>();
        Map<UUID, Set<UUID>> children = new HashMap<>();
        Map<UUID, Set<UUID>> parents = new HashMap<>();
        for (DependencyGraph.Node n : graph.nodes()) {
            if (member(n, limited, schemaName)) {
                registered.put(n.registrationId(), n);
                children.put(n.registrationId(), new LinkedHashSet<>());
                parents.put(n.registrationId(), new LinkedHashSet<>());
            }
        }
        for (DependencyGraph.Node n : registered.values()) {
            Deque<String> todo = new ArrayDeque<>(readers.getOrDefault(n.id(), List.of()));
            Set<String> seen = new HashSet<>();
            while (!todo.isEmpty()) {
                String next = todo.pop();
                if (!seen.add(next)) {
                    continue;
                }
                DependencyGraph.Node reader = byId.get(next);
                if (reader != null && member(reader, limited, schemaName)) {
                    children.get(n.registrationId()).add(reader.registrationId());
                    parents.get(reader.registrationId()).add(n.registrationId());
                } else {
                    todo.addAll(readers.getOrDefault(next, List.of()));
                }
            }
        }
        Set<UUID> chosen = switch (direction) {
            case ALL -> new HashSet<>(registered.keySet());
            case DOWNSTREAM -> closure(root, children);
            case UPSTREAM -> closure(root, parents);
        };
        if (direction != Direction.ALL && !registered.containsKey(root)) {
            throw new IllegalArgumentException("registration " + root + " is not a node of the graph");
        }
        return new CascadePlan(order(chosen, registered, parents));
    }

    private static boolean member(DependencyGraph.Node n, boolean limited, String schemaName) {
        return n.registrationId() != null && (!limited || schemaName.equals(n.schemaName()));
    }

    private static Set<UUID> closure(UUID root, Map<UUID, Set<UUID>> next) {
        Set<UUID> reached = new LinkedHashSet<>();
        Deque<UUID> todo = new ArrayDeque<>(List.of(root));
        while (!todo.isEmpty()) {
            UUID id = todo.pop();
            if (reached.add(id)) {
                todo.addAll(next.getOrDefault(id, Set.of()));
            }
        }
        return reached;
    }

    /** Kahn's algorithm over the chosen nodes, always taking the first ready node by name. */
    private static List<Node> order(Set<UUID> chosen, Map<UUID, DependencyGraph.Node> registered,
                                    Map<UUID, Set<UUID>> parents) {
        Comparator<UUID> byName = Comparator.comparing((UUID id) -> registered.get(id).schemaName())
                .thenComparing(id -> registered.get(id).name());
        Map<UUID, List<UUID>> after = new HashMap<>();
        Map<UUID, Integer> waiting = new HashMap<>();
        Map<UUID, List<UUID>> unblocks = new HashMap<>();
        for (UUID id : chosen) {
            List<UUID> mine = parents.get(id).stream().filter(chosen::contains).sorted(byName).toList();
            after.put(id, mine);
            waiting.put(id, mine.size());
            mine.forEach(p -> unblocks.computeIfAbsent(p, k -> new ArrayList<>()).add(id));
        }
        java.util.PriorityQueue<UUID> ready = new java.util.PriorityQueue<>(byName);
        waiting.forEach((id, n) -> {
            if (n == 0) {
                ready.add(id);
            }
        });
        List<Node> ordered = new ArrayList<>(chosen.size());
        while (!ready.isEmpty()) {
            UUID id = ready.poll();
            DependencyGraph.Node n = registered.get(id);
            ordered.add(new Node(id, n.schemaName(), n.name(), after.get(id)));
            for (UUID child : unblocks.getOrDefault(id, List.of())) {
                if (waiting.merge(child, -1, Integer::sum) == 0) {
                    ready.add(child);
                }
            }
        }
        if (ordered.size() != chosen.size()) {
            // PostgreSQL cannot create a cycle of views; a graph read across concurrent DDL might.
            throw new IllegalStateException("the dependency graph has a cycle among " + chosen.size() + " views");
        }
        return ordered;
    }

    /**
     * This plan without {@code left}: a node that waited for one of them waits instead for what
     * that one waited for, so the order among the nodes kept is unchanged.
     */
    public CascadePlan without(Set<UUID> left) {
        if (left.isEmpty()) {
            return this;
        }
        Map<UUID, Node> byId = new HashMap<>();
        nodes.forEach(n -> byId.put(n.registrationId(), n));
        List<Node> kept = new ArrayList<>(nodes.size());
        for (Node n : nodes) {
            if (left.contains(n.registrationId())) {
                continue;
            }
            Set<UUID> after = new LinkedHashSet<>();
            Deque<UUID> todo = new ArrayDeque<>(n.after());
            Set<UUID> seen = new HashSet<>();
            while (!todo.isEmpty()) {
                UUID parent = todo.pop();
                if (!seen.add(parent)) {
                    continue;
                }
                if (left.contains(parent)) {
                    todo.addAll(byId.get(parent).after());
                } else {
                    after.add(parent);
                }
            }
            kept.add(new Node(n.registrationId(), n.schemaName(), n.viewName(), List.copyOf(after)));
        }
        return new CascadePlan(kept);
    }

    /** The nodes that depend on {@code failed} in this plan, at any depth. */
    public Set<UUID> descendantsOf(UUID failed) {
        Map<UUID, List<UUID>> unblocks = new HashMap<>();
        for (Node n : nodes) {
            n.after().forEach(p -> unblocks.computeIfAbsent(p, k -> new ArrayList<>()).add(n.registrationId()));
        }
        Set<UUID> reached = new LinkedHashSet<>();
        Deque<UUID> todo = new ArrayDeque<>(unblocks.getOrDefault(failed, List.of()));
        while (!todo.isEmpty()) {
            UUID id = todo.pop();
            if (reached.add(id)) {
                todo.addAll(unblocks.getOrDefault(id, List.of()));
            }
        }
        return reached;
    }
}
