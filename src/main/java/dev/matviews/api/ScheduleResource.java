package dev.matviews.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.matviews.problem.InvalidInputException;
import dev.matviews.schedule.CronSchedule;
import dev.matviews.schedule.Schedule;
import dev.matviews.schedule.ScheduleRequest;
import dev.matviews.schedule.ScheduleService;
import io.quarkus.runtime.annotations.RegisterForReflection;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.net.URI;
import java.time.Instant;
import java.util.List;

/** The original system's schedule routes, validated at creation. */
@Path("/api/admin/schedules")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "schedules", description = "Recurring jobs, fired exactly once per due time across replicas")
public class ScheduleResource {

    private final ScheduleService schedules;
    private final RequestValidator validator;

    public ScheduleResource(ScheduleService schedules, RequestValidator validator) {
        this.schedules = schedules;
        this.validator = validator;
    }

    @GET
    @Operation(summary = "List schedules by name")
    @APIResponse(responseCode = "200", description = "All schedules",
            content = @Content(schema = @Schema(type = SchemaType.ARRAY, implementation = Schedule.class)))
    public Uni<List<Schedule>> list() {
        return schedules.list();
    }

    @Schema(name = "NextRuns")
    @RegisterForReflection
    public record NextRuns(String cronExpr, String timezone,
                           @Schema(description = "The next due times, as a schedule created now would fire")
                           List<Instant> nextRuns) {
    }

    @GET
    @Path("/next-runs")
    @Operation(summary = "When a cron expression would fire next (a preview before saving a schedule)")
    @APIResponse(responseCode = "200", description = "The next due times",
            content = @Content(schema = @Schema(implementation = NextRuns.class)))
    @APIResponse(responseCode = "400", description = "Bad cron, time zone or count",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public NextRuns nextRuns(
            @Parameter(description = "As a schedule's cronExpr", required = true, schema = @Schema(maxLength = 200))
            @QueryParam("cronExpr") String cronExpr,
            @Parameter(description = "IANA time zone, default UTC", schema = @Schema(maxLength = 64))
            @QueryParam("timezone") String timezone,
            @Parameter(description = "1 to 20, default 5", schema = @Schema(type = SchemaType.INTEGER, minimum = "1",
                    maximum = "20", defaultValue = "5")) @QueryParam("count") String count) {
        Requests.maxLength("cronExpr", cronExpr, 200);
        Requests.maxLength("timezone", timezone, 64);
        Integer n = Requests.whole("count", count);
        if (n != null && (n < 1 || n > 20)) {
            throw new InvalidInputException("count must be between 1 and 20, got " + n);
        }
        CronSchedule cron = CronSchedule.parse(cronExpr, timezone);
        return new NextRuns(cron.expression(), cron.zone().getId(), cron.next(n == null ? 5 : n, Instant.now()));
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Create a schedule")
    @RequestBody(required = true, content = @Content(schema = @Schema(implementation = ScheduleRequest.class)))
    @APIResponse(responseCode = "201", description = "Created; nextRunAt is planned",
            content = @Content(schema = @Schema(implementation = Schedule.class)))
    @APIResponse(responseCode = "400", description = "Missing field, unknown job type, payload not fitting it, bad cron or time zone",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "409", description = "Name taken (type schedule-name-taken)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<Response> create(JsonNode body) {
        return Uni.createFrom().deferred(() -> schedules.create(validator.valid(Requests.schedule(body))))
                .map(s -> Response.created(URI.create("/api/admin/schedules/" + s.id())).entity(s).build());
    }

    @GET
    @Path("/{id}")
    @Operation(summary = "Get a schedule")
    @APIResponse(responseCode = "200", description = "The schedule", content = @Content(schema = @Schema(implementation = Schedule.class)))
    @APIResponse(responseCode = "400", description = "id is not a UUID",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such schedule",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<Schedule> get(@Parameter(schema = @Schema(type = SchemaType.STRING, format = "uuid")) @PathParam("id") String id) {
        return Uni.createFrom().deferred(() -> schedules.get(Requests.uuid("id", id)));
    }

    @PUT
    @Path("/{id}")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Change a schedule (given fields only); its next run is planned again")
    @RequestBody(required = true, content = @Content(schema = @Schema(implementation = ScheduleRequest.class)))
    @APIResponse(responseCode = "200", description = "Updated", content = @Content(schema = @Schema(implementation = Schedule.class)))
    @APIResponse(responseCode = "400", description = "Invalid field",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such schedule",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "409", description = "Name taken",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<Schedule> update(@Parameter(schema = @Schema(type = SchemaType.STRING, format = "uuid")) @PathParam("id") String id,
                                JsonNode body) {
        return Uni.createFrom().deferred(() -> schedules.update(Requests.uuid("id", id),
                validator.valid(Requests.schedule(body))));
    }

    @DELETE
    @Path("/{id}")
    @Operation(summary = "Delete a schedule (its queued and past jobs stay)")
    @APIResponse(responseCode = "204", description = "Deleted")
    @APIResponse(responseCode = "400", description = "id is not a UUID",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such schedule",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<Response> delete(@Parameter(schema = @Schema(type = SchemaType.STRING, format = "uuid")) @PathParam("id") String id) {
        return Uni.createFrom().deferred(() -> schedules.delete(Requests.uuid("id", id)))
                .map(ignored -> Response.noContent().build());
    }

    @POST
    @Path("/{id}/enable")
    @Operation(summary = "Enable a schedule; its next run is planned from now")
    @APIResponse(responseCode = "200", description = "Enabled", content = @Content(schema = @Schema(implementation = Schedule.class)))
    @APIResponse(responseCode = "404", description = "No such schedule",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<Schedule> enable(@Parameter(schema = @Schema(type = SchemaType.STRING, format = "uuid")) @PathParam("id") String id) {
        return Uni.createFrom().deferred(() -> schedules.setEnabled(Requests.uuid("id", id), true));
    }

    @POST
    @Path("/{id}/disable")
    @Operation(summary = "Disable a schedule")
    @APIResponse(responseCode = "200", description = "Disabled", content = @Content(schema = @Schema(implementation = Schedule.class)))
    @APIResponse(responseCode = "404", description = "No such schedule",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<Schedule> disable(@Parameter(schema = @Schema(type = SchemaType.STRING, format = "uuid")) @PathParam("id") String id) {
        return Uni.createFrom().deferred(() -> schedules.setEnabled(Requests.uuid("id", id), false));
    }
}
