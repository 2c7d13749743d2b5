package dev.matviews.registry;

import io.quarkus.runtime.annotations.RegisterForReflection;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * A materialized view under management and the outcome of its latest finished refresh. The
 * first ten fields are the original API's; the rest were added by this service.
 */
@Schema(name = "Registration")
@RegisterForReflection
public record Registration(
        UUID id,
        String schemaName,
        String viewName,
        RefreshMode refreshMode,
        @Schema(description = "When the latest finished refresh ended", nullable = true)
        OffsetDateTime lastRefreshAt,
        @Schema(nullable = true)
        Integer lastRefreshDurationMs,
        @Schema(description = "success or error; null if never refreshed", nullable = true)
        RefreshStatus lastRefreshStatus,
        @Schema(description = "PostgreSQL's message and SQLSTATE of the latest failed refresh", nullable = true)
        String lastRefreshError,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt,
        @Schema(description = "When the latest successful refresh ended", nullable = true)
        OffsetDateTime lastSuccessAt,
        @Schema(description = "The run refreshing the view right now, if any", nullable = true)
        UUID currentRunId,
        @Schema(description = "statement_timeout for its refreshes in ms (0: none); null: the service default",
                nullable = true)
        Integer statementTimeoutMs,
        @Schema(description = "lock_timeout for its refreshes in ms (0: none); null: the service default",
                nullable = true)
        Integer lockTimeoutMs,
        @Schema(description = "Stale once its last success is older than this; null: never stale", nullable = true)
        Integer maxStalenessSeconds,
        @Schema(description = "Its last success is older than maxStalenessSeconds, by the database clock"
                + " (false when none is set; never refreshed counts as stale)")
        boolean stale,
        @Schema(description = "Its refresh schedule and next run, if it has one", nullable = true)
        ScheduleSummary schedule,
        @Schema(description = "A refresh is skipped (a run with status skipped that names the run whose data it"
                + " kept) when no source of the view changed since its last successful refresh began; needs change"
                + " tracking on its source tables (POST .../change-tracking)")
        boolean skipUnchanged,
        @Schema(description = "With skipUnchanged: refresh anyway once the last successful refresh began longer ago"
                + " than this; null: no limit", nullable = true)
        Integer maxSkipAgeSeconds,
        @Schema(description = "When a refresh was last skipped because nothing had changed (counts as fresh for"
                + " staleness)", nullable = true)
        OffsetDateTime lastUnchangedAt) {

    public String qualifiedName() {
        return schemaName + "." + viewName;
    }
}
