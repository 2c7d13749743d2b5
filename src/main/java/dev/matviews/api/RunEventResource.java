package dev.matviews.api;

import dev.matviews.cascade.CascadeEvent;
import dev.matviews.events.ResyncRequired;
import dev.matviews.events.RunEvents;
import dev.matviews.problem.InvalidInputException;
import dev.matviews.runs.Run;
import io.quarkus.runtime.annotations.RegisterForReflection;
import dev.matviews.config.MatviewsConfig;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.vertx.http.runtime.security.QuarkusHttpUser;
import io.smallrye.mutiny.Multi;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import org.eclipse.microprofile.jwt.JsonWebToken;
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

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicLong;

/** Live run events of every replica as Server-Sent Events. */
@Path("/api/admin/matviews/events")
@Tag(name = "runs")
public class RunEventResource {

    private final RunEvents events;
    private final Duration heartbeat;

    public RunEventResource(RunEvents events, MatviewsConfig config) {
        this.events = events;
        this.heartbeat = config.events().heartbeat();
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
                    + " also end when the instance shuts down; reconnect with Last-Event-ID. A stream quiet for"
                    + " matviews.events.heartbeat (15 s) gets an SSE comment line (heartbeat), which keeps proxies"
                    + " from cutting it and ends it once its client is gone.")
    @APIResponse(responseCode = "200", description = "An endless event stream",
            content = @Content(mediaType = MediaType.SERVER_SENT_EVENTS,
                    schema = @Schema(oneOf = {Run.class, CascadeEvent.class})))
    @APIResponse(responseCode = "400", description = "Last-Event-ID is not a number",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "This instance already serves matviews.events.max-streams"
            + " streams, or the caller matviews.events.max-streams-per-principal (type too-many-streams, with Retry-After)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Multi<OutboundSseEvent> stream(
            @Parameter(description = "Id of the last event received, to resume after it")
            @HeaderParam("Last-Event-ID") String lastEventId,
            @Context Sse sse, @Context RoutingContext request) {
        Long since = parse(lastEventId);
        // The route's permission check has already authenticated a token, if one was needed.
        SecurityIdentity who = request.user() instanceof QuarkusHttpUser user ? user.getSecurityIdentity() : null;
        return withHeartbeats(events(since, principal(who, request.request()), sse), sse);
    }

    /**
     * Whose share a stream counts against: a built-in token (they all name their role, not a
     * person), a user of the identity provider, or, where no token is needed, the client address.
     */
    static String principal(SecurityIdentity who, HttpServerRequest request) {
        if (who != null && !who.isAnonymous() && who.getPrincipal() instanceof JsonWebToken jwt && jwt.getRawToken() != null) {
            return "token:" + sha256(jwt.getRawToken());
        }
        if (who != null && !who.isAnonymous()) {
            return "principal:" + who.getPrincipal().getName();
        }
        return "address:" + (request.remoteAddress() == null ? "?" : request.remoteAddress().hostAddress());
    }

    /**
     * A comment line on a stream quiet for the heartbeat period: proxies keep it open, and a
     * client that went away is found when the write fails, which ends the stream and frees its slot.
     */
    private Multi<OutboundSseEvent> withHeartbeats(Multi<OutboundSseEvent> stream, Sse sse) {
        if (heartbeat.isZero() || heartbeat.isNegative()) {
            return stream;
        }
        OutboundSseEvent end = sse.newEventBuilder().comment("end").build();
        AtomicLong lastSent = new AtomicLong(System.nanoTime());
        Multi<OutboundSseEvent> beats = Multi.createFrom().ticks().every(heartbeat.dividedBy(2))
                .onOverflow().drop()
                .select().where(tick -> System.nanoTime() - lastSent.get() >= heartbeat.toNanos())
                .map(tick -> sse.newEventBuilder().comment("heartbeat").build());
        // one item at a time from each: the stream's own buffer, not the merge's, says when its client fell behind
        return Multi.createBy().merging().withRequests(1).streams(stream.onCompletion().continueWith(end), beats)
                .select().first(event -> event != end)
                .invoke(event -> lastSent.set(System.nanoTime()));
    }

    private Multi<OutboundSseEvent> events(Long since, String principal, Sse sse) {
        return events.stream(since, principal)
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

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
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
