package dev.matviews.alerts;

import com.fasterxml.jackson.annotation.JsonIgnore;
import io.quarkus.runtime.annotations.RegisterForReflection;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.sqlclient.Row;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.time.OffsetDateTime;
import java.util.Map;
import java.util.UUID;

/**
 * Something an operator should be told of without polling: a scheduled refresh failed, a
 * registration was suspended, a freshness target was missed, or a failing view recovered. The
 * webhook body and the event stream's {@code alert} event.
 */
@Schema(name = "Alert")
@RegisterForReflection
public record Alert(
        @Schema(description = "Unique per alert: a receiver that sees an id twice has seen a redelivery")
        UUID id,
        @Schema(enumeration = {"refresh-failed", "suspended", "target-missed", "recovered"})
        String event,
        UUID registrationId,
        String schema,
        String view,
        OffsetDateTime at,
        @Schema(description = "What happened: reason, run id, error, lag, as the event has them")
        Map<String, Object> detail,
        @JsonIgnore
        long eventId) {

    /** Every event an alert can be, as the outbox's CHECK constraint lists them. */
    public static final java.util.List<String> EVENTS = dev.matviews.metrics.MatviewsMetrics.ALERT_EVENTS;

    static final String COLUMNS = "id, event_id, event, registration_id, schema_name, view_name, at, detail";

    static Alert map(Row row) {
        JsonObject detail = row.getJsonObject("detail");
        return new Alert(row.getUUID("id"), row.getString("event"), row.getUUID("registration_id"),
                row.getString("schema_name"), row.getString("view_name"), row.getOffsetDateTime("at"),
                detail == null ? Map.of() : detail.getMap(), row.getLong("event_id"));
    }

    /** As the database's NOTIFY payload writes it (migration V16, _matviews_alert). */
    public static Alert fromJson(JsonObject json) {
        JsonObject detail = json.getJsonObject("detail");
        return new Alert(UUID.fromString(json.getString("id")), json.getString("event"),
                UUID.fromString(json.getString("registrationId")), json.getString("schema"), json.getString("view"),
                OffsetDateTime.parse(json.getString("at")), detail == null ? Map.of() : detail.getMap(),
                json.getLong("eventId"));
    }

    /** The webhook body: the alert's fields as JSON. */
    public String body() {
        return new JsonObject().put("id", id.toString()).put("event", event).put("registrationId", registrationId.toString())
                .put("schema", schema).put("view", view).put("at", at.toString()).put("detail", new JsonObject(detail))
                .encode();
    }
}
