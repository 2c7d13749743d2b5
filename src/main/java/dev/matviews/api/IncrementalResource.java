package dev.matviews.api;

import dev.matviews.incremental.IncrementalService;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Incremental views: whether a definition can be maintained from its changes. */
@Path("/api/admin/matviews/explain")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "matviews")
public class IncrementalResource {

    private final IncrementalService incremental;

    public IncrementalResource(IncrementalService incremental) {
        this.incremental = incremental;
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Whether a definition can be maintained incrementally, and if not why",
            description = "PostgreSQL parses the definition (as a temporary view, in a transaction rolled back; nothing"
                    + " it names runs) and its query tree is checked: inner joins of tables, WHERE and select lists"
                    + " over immutable expressions, GROUP BY with count, sum, avg, min and max, and DISTINCT can be;"
                    + " reasons name every other construct found. docs/incremental.md.")
    @APIResponse(responseCode = "200", description = "The answer",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = IncrementalService.Explanation.class)))
    @APIResponse(responseCode = "400", description = "No definition, or one PostgreSQL refuses (its message says why)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<IncrementalService.Explanation> explain(ExplainRequest request) {
        return incremental.explain(request == null ? null : request.definition());
    }
}
