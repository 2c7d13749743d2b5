package dev.matviews.api;

import dev.matviews.schedule.Job;
import dev.matviews.schedule.JobService;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
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

import java.util.List;

/** The original system's job routes. */
@Path("/api/admin/jobs")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "jobs", description = "The job queue behind schedules")
public class JobResource {

    private final JobService jobs;

    public JobResource(JobService jobs) {
        this.jobs = jobs;
    }

    @GET
    @Operation(summary = "List jobs, newest first")
    @APIResponse(responseCode = "200", description = "Jobs",
            content = @Content(schema = @Schema(type = SchemaType.ARRAY, implementation = Job.class)))
    @APIResponse(responseCode = "400", description = "Unknown state, bad scheduleId or limit",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<List<Job>> list(@Parameter(description = "Job type", schema = @Schema(maxLength = 100)) @QueryParam("type") String type,
                               @Parameter(description = "queued, running, completed, failed or canceled") @QueryParam("state") String state,
                               @Parameter(description = "Jobs of this schedule") @QueryParam("scheduleId") String scheduleId,
                               @Parameter(description = "1 to 500, default 50",
                                       schema = @Schema(type = SchemaType.INTEGER, minimum = "1", maximum = "500",
                                               defaultValue = "50")) @QueryParam("limit") String limit) {
        return Uni.createFrom().deferred(() -> jobs.list(type, state,
                scheduleId == null ? null : Requests.uuid("scheduleId", scheduleId), Requests.whole("limit", limit)));
    }

    @GET
    @Path("/{id}")
    @Operation(summary = "Get a job")
    @APIResponse(responseCode = "200", description = "The job", content = @Content(schema = @Schema(implementation = Job.class)))
    @APIResponse(responseCode = "400", description = "id is not a UUID",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such job",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<Job> get(@Parameter(schema = @Schema(type = SchemaType.STRING, format = "uuid")) @PathParam("id") String id) {
        return Uni.createFrom().deferred(() -> jobs.get(Requests.uuid("id", id)));
    }

    @POST
    @Path("/{id}/retry")
    @Operation(summary = "Queue a failed or canceled job again, with fresh attempts")
    @APIResponse(responseCode = "200", description = "Queued", content = @Content(schema = @Schema(implementation = Job.class)))
    @APIResponse(responseCode = "404", description = "No such job",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "409", description = "Not failed or canceled (type job-state)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<Job> retry(@Parameter(schema = @Schema(type = SchemaType.STRING, format = "uuid")) @PathParam("id") String id) {
        return Uni.createFrom().deferred(() -> jobs.retry(Requests.uuid("id", id)));
    }

    @POST
    @Path("/{id}/cancel")
    @Operation(summary = "Cancel a queued job, or a running one (its refresh is cancelled wherever it runs)")
    @APIResponse(responseCode = "200", description = "Canceled, or cancellation requested",
            content = @Content(schema = @Schema(implementation = Job.class)))
    @APIResponse(responseCode = "404", description = "No such job",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "409", description = "Already finished (type job-state)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<Job> cancel(@Parameter(schema = @Schema(type = SchemaType.STRING, format = "uuid")) @PathParam("id") String id) {
        return Uni.createFrom().deferred(() -> jobs.cancel(Requests.uuid("id", id)));
    }
}
