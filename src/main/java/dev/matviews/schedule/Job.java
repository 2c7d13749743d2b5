package dev.matviews.schedule;

import io.quarkus.runtime.annotations.RegisterForReflection;
import io.vertx.mutiny.sqlclient.Row;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.time.OffsetDateTime;
import java.util.Map;
import java.util.UUID;

/** One execution request of the generic job queue, and where it is: queued, running, completed, failed, canceled. */
@Schema(name = "Job")
@RegisterForReflection
public record Job(
        UUID id,
        String type,
        Map<String, Object> payload,
        JobState state,
        OffsetDateTime runAt,
        int attempts,
        int maxAttempts,
        int maxRuntimeMs,
        @Schema(nullable = true) OffsetDateTime leaseUntil,
        @Schema(nullable = true) String workerId,
        @Schema(nullable = true) String lastError,
        @Schema(description = "The refresh run of the latest attempt", nullable = true) UUID lastRunId,
        @Schema(nullable = true) UUID scheduleId,
        @Schema(nullable = true) String idempotencyKey,
        @Schema(nullable = true) OffsetDateTime cancelRequestedAt,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt,
        @Schema(nullable = true) OffsetDateTime completedAt) {

    public static final String COLUMNS = "id, type, payload, state, run_at, attempts, max_attempts, max_runtime_ms,"
            + " lease_until, worker_id, last_error, last_run_id, schedule_id, idempotency_key, cancel_requested_at,"
            + " created_at, updated_at, completed_at";

    public static Job map(Row row) {
        return new Job(row.getUUID("id"), row.getString("type"), row.getJsonObject("payload").getMap(),
                JobState.parse(row.getString("state")), row.getOffsetDateTime("run_at"), row.getInteger("attempts"),
                row.getInteger("max_attempts"), row.getInteger("max_runtime_ms"), row.getOffsetDateTime("lease_until"),
                row.getString("worker_id"), row.getString("last_error"), row.getUUID("last_run_id"),
                row.getUUID("schedule_id"), row.getString("idempotency_key"),
                row.getOffsetDateTime("cancel_requested_at"), row.getOffsetDateTime("created_at"),
                row.getOffsetDateTime("updated_at"), row.getOffsetDateTime("completed_at"));
    }
}
