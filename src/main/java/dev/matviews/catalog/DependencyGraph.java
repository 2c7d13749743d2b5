package dev.matviews.catalog;

import io.quarkus.runtime.annotations.RegisterForReflection;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.util.List;
import java.util.UUID;

/**
 * Relations and who reads whom, from pg_depend and pg_rewrite (and incremental views' plans): an
 * edge goes from a relation to a view, materialized view or incremental view whose query reads it
 * (the direction data flows, and refreshes go).
 */
@Schema(name = "DependencyGraph")
@RegisterForReflection
public record DependencyGraph(List<Node> nodes, List<Edge> edges) {

    @Schema(name = "GraphNode")
    @RegisterForReflection
    public record Node(
            @Schema(description = "The qualified name as PostgreSQL quotes it (quote_ident), unique in the graph")
            String id,
            String schemaName,
            String name,
            @Schema(enumeration = {"table", "partitioned table", "view", "materialized view", "incremental view",
                    "foreign table"})
            String kind,
            @Schema(description = "Its registration, for a registered materialized or incremental view", nullable = true)
            UUID registrationId) {
    }

    @Schema(name = "GraphEdge")
    @RegisterForReflection
    public record Edge(
            @Schema(description = "Id of the relation that is read")
            String from,
            @Schema(description = "Id of the view or materialized view that reads it")
            String to) {
    }

    /**
     * Graphviz: materialized views as boxes, incremental views as rounded boxes (bold when
     * registered), tables as cylinders, plain views as ellipses.
     */
    public String toDot() {
        StringBuilder dot = new StringBuilder("digraph matviews {\n  rankdir=LR;\n");
        for (Node n : nodes) {
            String shape = switch (n.kind()) {
                case "materialized view" -> n.registrationId() != null ? "box, style=bold" : "box";
                case "incremental view" -> n.registrationId() != null ? "box, style=\"bold,rounded\"" : "box, style=rounded";
                case "view" -> "ellipse";
                default -> "cylinder";
            };
            dot.append("  ").append(quoted(n.id())).append(" [shape=").append(shape).append("];\n");
        }
        for (Edge e : edges) {
            dot.append("  ").append(quoted(e.from())).append(" -> ").append(quoted(e.to())).append(";\n");
        }
        return dot.append("}\n").toString();
    }

    /** A DOT string: backslashes and double quotes escaped, so any identifier is safe. */
    static String quoted(String id) {
        return '"' + id.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + '"';
    }
}
