package dev.matviews.catalog;

import io.quarkus.runtime.StartupEvent;
import io.quarkus.runtime.annotations.RegisterForReflection;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.elk.alg.layered.options.LayeredOptions;
import org.eclipse.elk.core.RecursiveGraphLayoutEngine;
import org.eclipse.elk.core.options.CoreOptions;
import org.eclipse.elk.core.options.Direction;
import org.eclipse.elk.core.options.EdgeRouting;
import org.eclipse.elk.core.util.BasicProgressMonitor;
import org.eclipse.elk.graph.ElkEdge;
import org.eclipse.elk.graph.ElkEdgeSection;
import org.eclipse.elk.graph.ElkNode;
import org.eclipse.elk.graph.util.ElkGraphUtil;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Lays dependency graphs out with ELK Layered, off the event loop, and remembers the last ones: a
 * graph's drawing changes only when its relations or edges do, not when views refresh.
 */
@ApplicationScoped
// ELK creates its algorithm by reflection (Class.newInstance); its metadata providers come through ServiceLoader
@RegisterForReflection(targets = org.eclipse.elk.alg.layered.LayeredLayoutProvider.class)
public class GraphLayoutService {

    /** Labels longer than this are cut (the console shows the whole name on hover). */
    static final int MAX_LABEL = 32;
    private static final int REMEMBERED = 32;

    private final Map<String, GraphLayout> remembered = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, GraphLayout> eldest) {
            return size() > REMEMBERED;
        }
    };

    /**
     * Lays a made-up graph out once, in the background, as the service starts: the first console
     * that opens the graph then finds ELK's classes loaded and its code compiled, not cold.
     */
    void warmUp(@Observes StartupEvent event) {
        Infrastructure.getDefaultWorkerPool().execute(() -> {
            List<DependencyGraph.Node> nodes = new ArrayList<>();
            List<DependencyGraph.Edge> edges = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                nodes.add(new DependencyGraph.Node("warm.t" + i, "warm", "t" + i, i % 4 == 0 ? "table" : "materialized view",
                        null));
                if (i % 4 != 0) {
                    edges.add(new DependencyGraph.Edge("warm.t" + (i - 1), "warm.t" + i));
                    edges.add(new DependencyGraph.Edge("warm.t" + (i * 7 % 400 / 4 * 4), "warm.t" + i));
                }
            }
            layout(new DependencyGraph(nodes, edges.stream().distinct()
                    .filter(e -> !e.from().equals(e.to())).toList()));
        });
    }

    public Uni<LaidOutGraph> laidOut(DependencyGraph graph) {
        String key = key(graph);
        GraphLayout known;
        synchronized (remembered) {
            known = remembered.get(key);
        }
        if (known != null) {
            return Uni.createFrom().item(new LaidOutGraph(graph.nodes(), graph.edges(), known));
        }
        // CPU work of up to a few hundred milliseconds: on a worker thread, never the event loop
        return Uni.createFrom().item(() -> layout(graph))
                .runSubscriptionOn(Infrastructure.getDefaultWorkerPool())
                .invoke(layout -> {
                    synchronized (remembered) {
                        remembered.put(key, layout);
                    }
                })
                .map(layout -> new LaidOutGraph(graph.nodes(), graph.edges(), layout));
    }

    /** What the drawing depends on: the nodes (and whether registered, which sets their height) and the edges. */
    static String key(DependencyGraph graph) {
        StringBuilder key = new StringBuilder();
        for (DependencyGraph.Node n : graph.nodes()) {
            key.append(n.id()).append('\u0000').append(n.kind()).append(n.registrationId() != null ? '+' : '-').append('\u0001');
        }
        for (DependencyGraph.Edge e : graph.edges()) {
            key.append(e.from()).append('\u0000').append(e.to()).append('\u0001');
        }
        return key.toString();
    }

    static String label(String id) {
        return id.length() > MAX_LABEL ? id.substring(0, MAX_LABEL - 1) + "\u2026" : id;
    }

    static GraphLayout layout(DependencyGraph graph) {
        ElkNode root = ElkGraphUtil.createGraph();
        root.setProperty(CoreOptions.ALGORITHM, "org.eclipse.elk.layered");
        root.setProperty(CoreOptions.DIRECTION, Direction.RIGHT);
        root.setProperty(CoreOptions.EDGE_ROUTING, EdgeRouting.POLYLINE);
        root.setProperty(CoreOptions.SPACING_NODE_NODE, 10.0);
        root.setProperty(LayeredOptions.SPACING_NODE_NODE_BETWEEN_LAYERS, 56.0);
        root.setProperty(CoreOptions.SPACING_COMPONENT_COMPONENT, 28.0);
        // parts side by side and in rows, about as wide as a screen is
        root.setProperty(CoreOptions.ASPECT_RATIO, 2.0);
        // fewer crossing-minimization rounds as graphs grow: 1,000 views in ~0.1 s instead of ~0.3-1 s
        int size = graph.nodes().size();
        root.setProperty(LayeredOptions.THOROUGHNESS, size > 300 ? 1 : size > 100 ? 3 : 7);
        Map<String, ElkNode> nodes = new HashMap<>();
        Map<String, String> labels = new HashMap<>();
        for (DependencyGraph.Node n : graph.nodes()) {
            ElkNode node = ElkGraphUtil.createNode(root);
            String label = label(n.id());
            labels.put(n.id(), label);
            node.setIdentifier(n.id());
            node.setWidth(Math.max(90, Math.min(270, label.length() * 7 + 24)));
            node.setHeight(n.registrationId() != null ? 38 : 24);
            nodes.put(n.id(), node);
        }
        Map<ElkEdge, DependencyGraph.Edge> edges = new LinkedHashMap<>();
        for (DependencyGraph.Edge e : graph.edges()) {
            ElkNode from = nodes.get(e.from());
            ElkNode to = nodes.get(e.to());
            if (from != null && to != null && from != to) {
                edges.put(ElkGraphUtil.createSimpleEdge(from, to), e);
            }
        }
        new RecursiveGraphLayoutEngine().layout(root, new BasicProgressMonitor());
        List<GraphLayout.Box> boxes = new ArrayList<>(nodes.size());
        for (DependencyGraph.Node n : graph.nodes()) {
            ElkNode node = nodes.get(n.id());
            boxes.add(new GraphLayout.Box(n.id(), labels.get(n.id()), node.getX(), node.getY(), node.getWidth(),
                    node.getHeight()));
        }
        List<GraphLayout.Route> routes = new ArrayList<>(edges.size());
        edges.forEach((edge, e) -> {
            List<GraphLayout.Point> points = new ArrayList<>();
            for (ElkEdgeSection section : edge.getSections()) {
                points.add(new GraphLayout.Point(section.getStartX(), section.getStartY()));
                section.getBendPoints().forEach(b -> points.add(new GraphLayout.Point(b.getX(), b.getY())));
                points.add(new GraphLayout.Point(section.getEndX(), section.getEndY()));
            }
            routes.add(new GraphLayout.Route(e.from(), e.to(), points));
        });
        return new GraphLayout(root.getWidth(), root.getHeight(), boxes, routes);
    }
}
