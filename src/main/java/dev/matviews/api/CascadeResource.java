package dev.matviews.api;

import dev.matviews.cascade.Cascade;
import dev.matviews.cascade.CascadeService;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.net.URI;

/** Cascades: one refresh after another in graph order, shown and cancelled from any replica. */
@Path(CascadeResource.PATH)
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "cascades", description = "Refreshes of several views in the order of the dependency graph")
public class CascadeResource {

    static final String PATH = "/api/admin/cascades";

    private final CascadeService cascades;

    public CascadeResource(CascadeService cascades) {
        this.cascades = cascades;
    }

    /**
     * 202 with the cascade as it started, or 200 with it once it ended. A synchronous caller that
     * goes away cancels its cascade, as it would its single refresh; an asynchronous one is
     * cancelled only by its id.
     */
    static Uni<Response> answer(CascadeService.Started started, boolean async, CascadeService cascades) {
        if (async) {
            return cascades.get(started.id()).map(c -> Response.accepted(c)
                    .location(URI.create(PATH + "/" + c.id())).header("Preference-Applied", "respond-async").build());
        }
        return started.finished().map(c -> Response.ok(c).build())
                .onCancellation().invoke(() -> cascades.cancelForGoneCaller(started.id()));
    }

    @GET
    @Path("/{id}")
    @Operation(summary = "Get one cascade with its nodes and their status")
    @APIResponse(responseCode = "200", description = "The cascade",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Cascade.class)))
    @APIResponse(responseCode = "400", description = "id is not a UUID",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such cascade",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<Cascade> get(@Parameter(description = "Cascade id (UUID)", schema = @Schema(type = SchemaType.STRING,
            format = "uuid")) @PathParam("id") String id) {
        return Uni.createFrom().deferred(() -> cascades.get(Requests.uuid("id", id)));
    }

    @POST
    @Path("/{id}/cancel")
    @Operation(summary = "Cancel a cascade: its running nodes are cancelled, the pending ones skipped",
            description = "Works on any instance; the instance that runs the cascade starts nothing more.")
    @APIResponse(responseCode = "202", description = "Cancel requested; the cascade as it is now",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Cascade.class)))
    @APIResponse(responseCode = "400", description = "id is not a UUID",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such cascade",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "409", description = "The cascade has already ended (type cascade-finished)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<Response> cancel(@Parameter(description = "Cascade id (UUID)", schema = @Schema(type = SchemaType.STRING,
            format = "uuid")) @PathParam("id") String id) {
        return Uni.createFrom().deferred(() -> cascades.cancel(Requests.uuid("id", id)))
                .map(c -> Response.accepted(c).build());
    }
}
