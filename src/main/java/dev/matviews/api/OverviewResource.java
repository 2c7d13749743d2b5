package dev.matviews.api;

import dev.matviews.overview.Overview;
import dev.matviews.overview.OverviewService;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The console's landing page, as data: states, what needs attention, failures and hours. */
@Path("/api/admin/overview")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "overview", description = "The state of every registered view at a glance")
public class OverviewResource {

    private final OverviewService overview;

    public OverviewResource(OverviewService overview) {
        this.overview = overview;
    }

    @GET
    @Operation(summary = "Registrations by state, those that need attention, and the runs of the last hours",
            description = "Each registration is counted in the first state that applies: suspended, behind its"
                    + " target (or stale past maxStalenessSeconds), failing (its last refresh ended in error, timeout"
                    + " or abandoned), never refreshed, fresh. attention lists those behind, then failing, then"
                    + " suspended (at most " + OverviewService.LIST_LIMIT + "); failures the failed runs that ended"
                    + " in the window (at most " + OverviewService.LIST_LIMIT + "); hours, per hour, the runs that"
                    + " ended by outcome and the time the refreshing ones took.")
    @APIResponse(responseCode = "200", description = "The overview",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Overview.class)))
    @APIResponse(responseCode = "400", description = "hours not a whole number from 1 to " + OverviewService.MAX_HOURS,
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<Overview> overview(@Parameter(description = "The window in hours, 1 to " + OverviewService.MAX_HOURS,
            schema = @Schema(type = SchemaType.INTEGER, minimum = "1", maximum = "168", defaultValue = "24"))
                                  @QueryParam("hours") String hours) {
        return Uni.createFrom().deferred(() -> overview.overview(Requests.whole("hours", hours)));
    }
}
