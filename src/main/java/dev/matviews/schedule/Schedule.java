package dev.matviews.schedule;

import io.quarkus.runtime.annotations.RegisterForReflection;
import io.vertx.mutiny.sqlclient.Row;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.time.OffsetDateTime;
import java.util.Map;
import java.util.UUID;

/** A recurring job: what to enqueue, when, and how hard to try. */
@Schema(name = "Schedule")
@RegisterForReflection
public record Schedule(
        UUID id,
        String name,
        String jobType,
        Map<String, Object> payload,
        String cronExpr,
        String timezone,
        boolean enabled,
        int maxAttempts,
        int maxRuntimeMs,
        @Schema(description = "After all replicas were down past a due time: run once on recovery, or skip to the next")
        MissedRunPolicy missedRunPolicy,
        @Schema(nullable = true) OffsetDateTime nextRunAt,
        @Schema(nullable = true) OffsetDateTime lastRunAt,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt,
        @Schema(nullable = true, description = "Why the scheduler disabled this schedule (it could not be"
                + " evaluated); cleared when it is saved again")
        String lastError) {

    public static final String COLUMNS = "id, name, job_type, payload, cron_expr, timezone, enabled, max_attempts,"
            + " max_runtime_ms, missed_run_policy, next_run_at, last_run_at, created_at, updated_at, last_error";

    public static Schedule map(Row row) {
        return new Schedule(row.getUUID("id"), row.getString("name"), row.getString("job_type"),
                row.getJsonObject("payload").getMap(), row.getString("cron_expr"), row.getString("timezone"),
                row.getBoolean("enabled"), row.getInteger("max_attempts"), row.getInteger("max_runtime_ms"),
                MissedRunPolicy.parse(row.getString("missed_run_policy")), row.getOffsetDateTime("next_run_at"),
                row.getOffsetDateTime("last_run_at"), row.getOffsetDateTime("created_at"),
                row.getOffsetDateTime("updated_at"), row.getString("last_error"));
    }
}
