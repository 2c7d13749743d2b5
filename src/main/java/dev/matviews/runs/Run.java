package dev.matviews.runs;

import io.quarkus.runtime.annotations.RegisterForReflection;
import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.matviews.registry.RefreshMode;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.sqlclient.Row;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.time.OffsetDateTime;
import java.util.UUID;

/** One refresh attempt of one view, from start to outcome. */
@Schema(name = "Run")
@RegisterForReflection
public record Run(
        UUID id,
        UUID registrationId,
        String schemaName,
        String viewName,
        @Schema(description = "The mode this run refreshed in (standard or concurrent; a failure before the"
                + " start keeps the registered mode, which may be auto)")
        RefreshMode refreshMode,
        Trigger trigger,
        RunStatus status,
        @Schema(description = "The service instance that ran it")
        String instanceId,
        @Schema(description = "PostgreSQL backend pid of the refreshing session", nullable = true)
        Integer backendPid,
        OffsetDateTime startedAt,
        @Schema(nullable = true)
        OffsetDateTime finishedAt,
        @Schema(nullable = true)
        Integer durationMs,
        @Schema(description = "PostgreSQL's message, or why the run ended", nullable = true)
        String error,
        @Schema(nullable = true)
        String sqlState,
        @Schema(nullable = true)
        OffsetDateTime cancelRequestedAt,
        @Schema(description = "Why the run used its mode: the registered one, or what auto found", nullable = true)
        String modeReason,
        @Schema(description = "The cascade this run is a node of", nullable = true)
        UUID cascadeId,
        @Schema(description = "An incremental view's run: the change rows it applied (a full one: found pending)",
                nullable = true)
        Long changeRows,
        @Schema(description = "An incremental view's run: the view rows it wrote or deleted", nullable = true)
        Long rowsTouched,
        @JsonIgnore
        long eventId) {

    /** Columns in the order and names {@link #map(Row)} and {@link #fromJson(JsonObject)} read. */
    public static final String COLUMNS = "id, registration_id, schema_name, view_name, refresh_mode, trigger, status,"
            + " instance_id, backend_pid, started_at, finished_at, duration_ms, error, sqlstate,"
            + " cancel_requested_at, mode_reason, cascade_id, change_rows, rows_touched, event_id";

    public boolean finished() {
        return status != RunStatus.RUNNING;
    }

    public static Run map(Row row) {
        return new Run(row.getUUID("id"), row.getUUID("registration_id"), row.getString("schema_name"),
                row.getString("view_name"), RefreshMode.parse(row.getString("refresh_mode")),
                Trigger.parse(row.getString("trigger")), RunStatus.parse(row.getString("status")),
                row.getString("instance_id"), row.getInteger("backend_pid"), row.getOffsetDateTime("started_at"),
                row.getOffsetDateTime("finished_at"), row.getInteger("duration_ms"), row.getString("error"),
                row.getString("sqlstate"), row.getOffsetDateTime("cancel_requested_at"), row.getString("mode_reason"),
                row.getUUID("cascade_id"), optionalLong(row, "change_rows"), optionalLong(row, "rows_touched"),
                row.getLong("event_id"));
    }

    /** The same columns as {@code to_jsonb(run)} writes them into a NOTIFY payload. */
    public static Run fromJson(JsonObject json) {
        return new Run(UUID.fromString(json.getString("id")), UUID.fromString(json.getString("registration_id")),
                json.getString("schema_name"), json.getString("view_name"),
                RefreshMode.parse(json.getString("refresh_mode")), Trigger.parse(json.getString("trigger")),
                RunStatus.parse(json.getString("status")), json.getString("instance_id"),
                json.getInteger("backend_pid"), time(json, "started_at"), time(json, "finished_at"),
                json.getInteger("duration_ms"), json.getString("error"), json.getString("sqlstate"),
                time(json, "cancel_requested_at"), json.getString("mode_reason"),
                json.getString("cascade_id") == null ? null : UUID.fromString(json.getString("cascade_id")),
                json.getLong("change_rows"), json.getLong("rows_touched"), json.getLong("event_id"));
    }

    /** A column some statements returning runs do not have (they predate it). */
    private static Long optionalLong(Row row, String column) {
        return row.getColumnIndex(column) >= 0 ? row.getLong(column) : null;
    }

    private static OffsetDateTime time(JsonObject json, String key) {
        String value = json.getString(key);
        return value == null ? null : OffsetDateTime.parse(value);
    }
}
