package dev.matviews.api;

import dev.matviews.refresh.RefreshService;
import dev.matviews.registry.InvalidInputException;
import dev.matviews.registry.Registration;
import dev.matviews.registry.RegistryService;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.net.URI;
import java.util.UUID;

/** The admin API of the original system: maps HTTP to the registry and refresh services. */
@Path("/api/admin/matviews")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "matviews", description = "Registered materialized views and their refreshes")
public class MatviewResource {

    private final RegistryService registry;
    private final RefreshService refreshes;

    public MatviewResource(RegistryService registry, RefreshService refreshes) {
        this.registry = registry;
        this.refreshes = refreshes;
    }

    @GET
    @Operation(summary = "List registered materialized views, sorted by schema and view")
    @APIResponse(responseCode = "200", description = "All registrations",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = RegistrationList.class),
                    examples = @ExampleObject(name = "list", value = Examples.LIST)))
    public Uni<RegistrationList> list() {
        return registry.list().map(RegistrationList::of);
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Register a materialized view of the database")
    @RequestBody(required = true, content = @Content(schema = @Schema(implementation = RegisterRequest.class),
            examples = @ExampleObject(name = "register", value = Examples.REGISTER)))
    @APIResponse(responseCode = "201", description = "Registered",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Registration.class),
                    examples = @ExampleObject(name = "registration", value = Examples.REGISTRATION)))
    @APIResponse(responseCode = "400", description = "Invalid JSON, missing viewName, bad identifier or mode",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class),
                    examples = @ExampleObject(name = "invalid", value = Examples.INVALID)))
    @APIResponse(responseCode = "404", description = "No such materialized view in the database (tables and plain views do not count)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class),
                    examples = @ExampleObject(name = "matview-not-found", value = Examples.NOT_A_MATVIEW)))
    @APIResponse(responseCode = "409", description = "Already registered",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class),
                    examples = @ExampleObject(name = "already-registered", value = Examples.ALREADY_REGISTERED)))
    public Uni<Response> register(RegisterRequest request) {
        if (request == null) {
            return Uni.createFrom().failure(new InvalidInputException("request body is required"));
        }
        return registry.register(request.schema(), request.viewName(), request.refreshMode())
                .map(r -> Response.created(URI.create("/api/admin/matviews/" + r.id())).entity(r).build());
    }

    @GET
    @Path("/{id}")
    @Operation(summary = "Get one registration")
    @APIResponse(responseCode = "200", description = "The registration",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Registration.class),
                    examples = @ExampleObject(name = "registration", value = Examples.REGISTRATION)))
    @APIResponse(responseCode = "400", description = "id is not a UUID",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such registration",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class),
                    examples = @ExampleObject(name = "registration-not-found", value = Examples.NOT_FOUND)))
    public Uni<Registration> get(@Parameter(description = "Registration id (UUID)",
            schema = @Schema(type = SchemaType.STRING, format = "uuid")) @PathParam("id") String id) {
        return Uni.createFrom().deferred(() -> registry.get(uuid(id)));
    }

    @PUT
    @Path("/{id}")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Change a registration's refresh mode")
    @RequestBody(required = true, content = @Content(schema = @Schema(implementation = UpdateRequest.class),
            examples = @ExampleObject(name = "update", value = Examples.UPDATE)))
    @APIResponse(responseCode = "200", description = "The updated registration",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Registration.class)))
    @APIResponse(responseCode = "400", description = "Invalid JSON, id not a UUID, refreshMode missing or unknown",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such registration",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class),
                    examples = @ExampleObject(name = "registration-not-found", value = Examples.NOT_FOUND)))
    public Uni<Registration> update(@Parameter(description = "Registration id (UUID)",
            schema = @Schema(type = SchemaType.STRING, format = "uuid")) @PathParam("id") String id,
                                    UpdateRequest request) {
        return Uni.createFrom().deferred(() -> {
            UUID uuid = uuid(id);
            if (request == null) {
                throw new InvalidInputException("request body is required");
            }
            return registry.updateMode(uuid, request.refreshMode());
        });
    }

    @DELETE
    @Path("/{id}")
    @Operation(summary = "Unregister a materialized view (the view itself is left alone)")
    @APIResponse(responseCode = "204", description = "Unregistered")
    @APIResponse(responseCode = "400", description = "id is not a UUID",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such registration",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class),
                    examples = @ExampleObject(name = "registration-not-found", value = Examples.NOT_FOUND)))
    public Uni<Response> unregister(@Parameter(description = "Registration id (UUID)",
            schema = @Schema(type = SchemaType.STRING, format = "uuid")) @PathParam("id") String id) {
        return Uni.createFrom().deferred(() -> registry.unregister(uuid(id)))
                .map(ignored -> Response.noContent().build());
    }

    @POST
    @Path("/{id}/refresh")
    @Operation(summary = "Refresh now",
            description = "Takes the view's advisory lock, runs REFRESH MATERIALIZED VIEW (CONCURRENTLY in concurrent"
                    + " mode) and records the outcome, all on one database session. The request body is ignored."
                    + " A client that disconnects cancels the running REFRESH; the outcome is still recorded.")
    @APIResponse(responseCode = "200", description = "Refreshed; the registration as stored after the refresh",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = RefreshResponse.class),
                    examples = @ExampleObject(name = "refreshed", value = Examples.REFRESHED)))
    @APIResponse(responseCode = "400", description = "id is not a UUID",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such registration (type registration-not-found), or its"
            + " materialized view was dropped (type matview-gone; recorded as an error)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class),
                    examples = {@ExampleObject(name = "registration-not-found", value = Examples.NOT_FOUND),
                            @ExampleObject(name = "matview-gone", value = Examples.GONE)}))
    @APIResponse(responseCode = "409", description = "Another session is refreshing the view (type refresh-in-progress;"
            + " nothing recorded), or concurrent mode lacks a usable unique index (unique-index-required) or a"
            + " populated view (not-populated); the last two are recorded as errors",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class),
                    examples = {@ExampleObject(name = "refresh-in-progress", value = Examples.IN_PROGRESS),
                            @ExampleObject(name = "unique-index-required", value = Examples.NO_INDEX),
                            @ExampleObject(name = "not-populated", value = Examples.NOT_POPULATED)}))
    @APIResponse(responseCode = "500", description = "PostgreSQL refused the REFRESH; the error and SQLSTATE are recorded",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class),
                    examples = @ExampleObject(name = "refresh-failed", value = Examples.FAILED)))
    @APIResponse(responseCode = "503", description = "This instance already runs its maximum of refreshes; retry later",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class),
                    examples = @ExampleObject(name = "refresh-capacity", value = Examples.CAPACITY)))
    public Uni<RefreshResponse> refresh(@Parameter(description = "Registration id (UUID)",
            schema = @Schema(type = SchemaType.STRING, format = "uuid")) @PathParam("id") String id) {
        return Uni.createFrom().deferred(() -> refreshes.refresh(uuid(id)))
                .map(result -> new RefreshResponse(result.registration(), result.durationMs()));
    }

    private static UUID uuid(String id) {
        try {
            if (id.length() == 36) {
                return UUID.fromString(id);
            }
        } catch (IllegalArgumentException e) {
            // answered below
        }
        String shown = id.length() > 40 ? id.substring(0, 40) + "…" : id;
        throw new InvalidInputException("id must be a UUID, got '" + shown + "'");
    }
}
