package dev.matviews.catalog;

import io.quarkus.runtime.annotations.RegisterForReflection;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.util.List;

/** A dependency graph with its drawing (?layout=true). */
@Schema(name = "LaidOutGraph")
@RegisterForReflection
public record LaidOutGraph(List<DependencyGraph.Node> nodes, List<DependencyGraph.Edge> edges, GraphLayout layout) {
}
