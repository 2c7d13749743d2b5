package dev.matviews.cascade;

import com.fasterxml.jackson.annotation.JsonIgnore;
import io.quarkus.runtime.annotations.RegisterForReflection;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.sqlclient.Row;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * A cascade that started or ended, as the event stream carries it: the cascade without its
 * nodes (their runs are events of their own, each naming the cascade).
 */
@Schema(name = "CascadeEvent")
@RegisterForReflection
public record CascadeEvent(
        UUID id,
        @Schema(enumeration = {"downstream", "upstream", "all"})
        String direction,
        @Schema(nullable = true)
        UUID rootRegistrationId,
        @Schema(description = "refresh-all limited to this schema", nullable = true)
        String schemaName,
        @Schema(enumeration = {"manual", "async", "schedule"})
        String trigger,
        @Schema(enumeration = {"running", "success", "failed", "cancelled", "abandoned"})
        String status,
        String instanceId,
        int parallelism,
        String onBusy,
        @Schema(description = "How many views the cascade refreshes")
        int nodeCount,
        @Schema(description = "The job that started it (a cascading schedule)", nullable = true)
        UUID jobId,
        OffsetDateTime startedAt,
        @Schema(nullable = true)
        OffsetDateTime finishedAt,
        @Schema(nullable = true)
        OffsetDateTime cancelRequestedAt,
        @JsonIgnore
        long eventId) {

    /** Columns {@link #map(Row)} reads; {@code node_count} is computed from the plan. */
    static final String COLUMNS = "id, direction, root_registration_id, schema_name, trigger, status, instance_id,"
            + " parallelism, on_busy, jsonb_array_length(nodes) AS node_count, job_id, started_at, finished_at,"
            + " cancel_requested_at, event_id";

    public boolean finished() {
        return !CascadeStatus.RUNNING.is(status);
    }

    static CascadeEvent map(Row row) {
        return new CascadeEvent(row.getUUID("id"), row.getString("direction"), row.getUUID("root_registration_id"),
                row.getString("schema_name"), row.getString("trigger"), row.getString("status"),
                row.getString("instance_id"), row.getInteger("parallelism"), row.getString("on_busy"),
                row.getInteger("node_count"), row.getUUID("job_id"), row.getOffsetDateTime("started_at"),
                row.getOffsetDateTime("finished_at"), row.getOffsetDateTime("cancel_requested_at"),
                row.getLong("event_id"));
    }

    /** The row as the trigger of migration V10 writes it into a NOTIFY payload. */
    public static CascadeEvent fromJson(JsonObject json) {
        return new CascadeEvent(UUID.fromString(json.getString("id")), json.getString("direction"),
                uuid(json, "root_registration_id"), json.getString("schema_name"), json.getString("trigger"),
                json.getString("status"), json.getString("instance_id"), json.getInteger("parallelism"),
                json.getString("on_busy"), json.getInteger("node_count"), uuid(json, "job_id"),
                time(json, "started_at"), time(json, "finished_at"), time(json, "cancel_requested_at"),
                json.getLong("event_id"));
    }

    private static UUID uuid(JsonObject json, String key) {
        String value = json.getString(key);
        return value == null ? null : UUID.fromString(value);
    }

    private static OffsetDateTime time(JsonObject json, String key) {
        String value = json.getString(key);
        return value == null ? null : OffsetDateTime.parse(value);
    }
}
