package dev.matviews.api;

import dev.matviews.tracking.ChangeTracking;
import dev.matviews.tracking.ChangeTrackingService;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Change tracking of a registration's source tables, which skipUnchanged rests on. */
@Path("/api/admin/matviews/{id}/change-tracking")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "matviews")
public class ChangeTrackingResource {

    private final ChangeTrackingService tracking;

    public ChangeTrackingResource(ChangeTrackingService tracking) {
        this.tracking = tracking;
    }

    @GET
    @Operation(summary = "Whether the view's refreshes can be skipped when nothing changed, and why (not)")
    @APIResponse(responseCode = "200", description = "Its source tables and their tracking, and what its next refresh"
            + " would do", content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = ChangeTracking.class)))
    @APIResponse(responseCode = "400", description = "id is not a UUID",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such registration, or its materialized view is gone",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<ChangeTracking> get(@Parameter(description = "Registration id (UUID)",
            schema = @Schema(type = SchemaType.STRING, format = "uuid")) @PathParam("id") String id) {
        return Uni.createFrom().deferred(() -> tracking.status(Requests.uuid("id", id)));
    }

    @POST
    @Operation(summary = "Install change tracking on every table the view reads",
            description = "A statement-level trigger (AFTER INSERT, UPDATE, DELETE, TRUNCATE; enabled ALWAYS) on each"
                    + " table the view reads at any depth, partitions and inheritance children included. Each writing"
                    + " transaction then adds one small row per table to matviews' change log. All tables or none;"
                    + " the first refresh afterwards is never skipped. Needs the service's role to own each table.")
    @APIResponse(responseCode = "200", description = "Installed (or already there)",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ChangeTracking.class)))
    @APIResponse(responseCode = "400", description = "id is not a UUID",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such registration, or its materialized view is gone",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "409", description = "The role may not put a trigger on a source table (type"
            + " change-tracking-not-permitted, naming the table); nothing was changed",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "A source table stayed locked by its writers past the lock"
            + " timeout (type change-tracking-busy); nothing was changed",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<ChangeTracking> install(@Parameter(description = "Registration id (UUID)",
            schema = @Schema(type = SchemaType.STRING, format = "uuid")) @PathParam("id") String id) {
        return Uni.createFrom().deferred(() -> tracking.install(Requests.uuid("id", id)));
    }

    @DELETE
    @Operation(summary = "Remove the view's change tracking",
            description = "Its claims on its tables go; a trigger no other registration claims is dropped with its"
                    + " change rows. Its refreshes are no longer skipped.")
    @APIResponse(responseCode = "200", description = "Removed",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ChangeTracking.class)))
    @APIResponse(responseCode = "400", description = "id is not a UUID",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such registration, or its materialized view is gone",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "409", description = "The role may not drop a trigger (change-tracking-not-permitted)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<ChangeTracking> remove(@Parameter(description = "Registration id (UUID)",
            schema = @Schema(type = SchemaType.STRING, format = "uuid")) @PathParam("id") String id) {
        return Uni.createFrom().deferred(() -> tracking.remove(Requests.uuid("id", id)));
    }
}
