package dev.matviews.catalog;

import io.quarkus.runtime.annotations.RegisterForReflection;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.util.List;

/**
 * Where each node of a dependency graph is drawn and the line of each edge, in pixels: layered left
 * to right, what is read left of what reads it (ELK Layered).
 */
@Schema(name = "GraphLayout")
@RegisterForReflection
public record GraphLayout(double width, double height, List<Box> nodes, List<Route> edges) {

    /** A node's box: its top-left corner and size, and the label it was sized for. */
    @Schema(name = "GraphLayoutNode")
    @RegisterForReflection
    public record Box(String id, String label, double x, double y, double width, double height) {
    }

    /** An edge's line: from the reader's source to the reader, through its bend points. */
    @Schema(name = "GraphLayoutEdge")
    @RegisterForReflection
    public record Route(String from, String to, List<Point> points) {
    }

    @Schema(name = "GraphLayoutPoint")
    @RegisterForReflection
    public record Point(double x, double y) {
    }
}
