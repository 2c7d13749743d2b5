package dev.matviews.api;

import dev.matviews.cascade.CascadeEvent;
import dev.matviews.events.ResyncRequired;
import dev.matviews.events.RunEvents;
import dev.matviews.problem.InvalidInputException;
import dev.matviews.runs.Run;
import io.quarkus.runtime.annotations.RegisterForReflection;
import io.smallrye.mutiny.Multi;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Live run events of every replica as Server-Sent Events. */
@Path("/api/admin/matviews/events")
@Tag(name = "runs")
public class RunEventResource {

    private final RunEvents events;

    public RunEventResource(RunEvents events) {
        this.events = events;
    }

    @GET
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @Operation(summary = "Stream run events",
            description = "Server-Sent Events: `run-started` when a run starts, `run-finished` when it ends, each with"
                    + " the run as data and a numeric id; `cascade-started` and `cascade-finished` likewise with the"
                    + " cascade (without its nodes: each node is a run that names its cascadeId). Events come from"
                    + " every replica. Reconnecting with Last-Event-ID first delivers every run and cascade that"
                    + " changed since that event (its latest state), then live events. A stream ends with a `resync` event (data: reason and lastEventId, which"
                    + " is also its id) when it cannot stay complete: its client fell more than"
                    + " matviews.events.buffer events behind, or more than 1000 runs and cascades changed since"
                    + " Last-Event-ID."
                    + " Reload what you show, then reconnect (an EventSource does, resuming after that id). Streams"
                    + " also end when the instance shuts down; reconnect with Last-Event-ID.")
    @APIResponse(responseCode = "200", description = "An endless event stream",
            content = @Content(mediaType = MediaType.SERVER_SENT_EVENTS,
                    schema = @Schema(oneOf = {Run.class, CascadeEvent.class})))
    @APIResponse(responseCode = "400", description = "Last-Event-ID is not a number",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "This instance already serves matviews.events.max-streams"
            + " streams (type too-many-streams, with Retry-After)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Multi<OutboundSseEvent> stream(
            @Parameter(description = "Id of the last event received, to resume after it")
            @HeaderParam("Last-Event-ID") String lastEventId,
            @Context Sse sse) {
        Long since = parse(lastEventId);
        return events.stream(since)
                .map(event -> sse.newEventBuilder()
                        .id(Long.toString(event.eventId()))
                        .name(event.name())
                        .mediaType(MediaType.APPLICATION_JSON_TYPE)
                        .data(event.data().getClass(), event.data())
                        .build())
                .onFailure(ResyncRequired.class).recoverWithItem(e -> {
                    ResyncRequired resync = (ResyncRequired) e;
                    return sse.newEventBuilder()
                            .id(Long.toString(resync.lastEventId()))
                            .name("resync")
                            .mediaType(MediaType.APPLICATION_JSON_TYPE)
                            .data(Resync.class, new Resync(resync.getMessage(), resync.lastEventId()))
                            .build();
                });
    }

    /** The last event of a stream that could not stay complete. */
    @RegisterForReflection
    public record Resync(String reason, long lastEventId) {
    }

    private static Long parse(String lastEventId) {
        if (lastEventId == null || lastEventId.isBlank()) {
            return null;
        }
        try {
            return Long.parseLong(lastEventId.trim());
        } catch (NumberFormatException e) {
            throw new InvalidInputException("Last-Event-ID must be an event id this service sent");
        }
    }
}
