package dev.matviews.api;

import dev.matviews.runs.Run;
import dev.matviews.runs.RunService;
import dev.matviews.runs.RunWindow;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Single refresh runs: read one, cancel one, whichever instance runs it. */
@Path(RunResource.PATH)
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "runs", description = "Refresh runs: the history of every refresh attempt")
public class RunResource {

    static final String PATH = "/api/admin/matview-runs";

    private final RunService runs;

    public RunResource(RunService runs) {
        this.runs = runs;
    }

    @GET
    @Operation(summary = "The runs of every view in a window of time (default: the last hour)",
            description = "Every run that overlaps [from, to): it ended in the window or after it, or it is still"
                    + " running, and it started before to. Oldest start first; the console's timeline draws them as"
                    + " bars, grouped by cascadeId.")
    @APIResponse(responseCode = "200", description = "The runs of the window",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = RunWindow.class)))
    @APIResponse(responseCode = "400", description = "from or to not an ISO-8601 instant, from not before to, a window"
            + " over 7 days, or limit out of range",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<RunWindow> window(
            @Parameter(description = "Start of the window (default: an hour before to)") @QueryParam("from") String from,
            @Parameter(description = "End of the window (default: now)") @QueryParam("to") String to,
            @Parameter(description = "At most this many runs, 1 to " + RunService.WINDOW_LIMIT_MAX, schema = @Schema(
                    type = SchemaType.INTEGER, minimum = "1", maximum = "10000", defaultValue = "2000"))
            @QueryParam("limit") String limit) {
        return Uni.createFrom().deferred(() -> runs.window(Requests.instant("from", from), Requests.instant("to", to),
                Requests.whole("limit", limit)));
    }

    @GET
    @Path("/{runId}")
    @Operation(summary = "Get one run")
    @APIResponse(responseCode = "200", description = "The run",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Run.class),
                    examples = @ExampleObject(name = "running", value = Examples.RUN_STARTED)))
    @APIResponse(responseCode = "400", description = "runId is not a UUID",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such run (type run-not-found)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<Run> get(@Parameter(description = "Run id (UUID)", schema = @Schema(type = SchemaType.STRING,
            format = "uuid")) @PathParam("runId") String runId) {
        return Uni.createFrom().deferred(() -> runs.get(Requests.uuid("runId", runId)));
    }

    @POST
    @Path("/{runId}/cancel")
    @Operation(summary = "Cancel a running refresh",
            description = "Cancels the REFRESH on the database server, whichever instance runs it. The run then ends"
                    + " as cancelled and the view's lock is released; poll the run (or watch the events) for it.")
    @APIResponse(responseCode = "202", description = "Cancellation requested; the run as marked",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Run.class)))
    @APIResponse(responseCode = "400", description = "runId is not a UUID",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such run (type run-not-found)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "409", description = "The run already finished (type run-finished)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<Response> cancel(@Parameter(description = "Run id (UUID)", schema = @Schema(type = SchemaType.STRING,
            format = "uuid")) @PathParam("runId") String runId) {
        return Uni.createFrom().deferred(() -> runs.cancel(Requests.uuid("runId", runId)))
                .map(run -> Response.accepted(run).build());
    }
}
