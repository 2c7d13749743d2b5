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
        OffsetDateTime lastUnchangedAt,
        @Schema(description = "How fresh the view must be: an ISO-8601 duration (its lag is kept under it), or"
                + " downstream (only as fresh as a registered view that reads it and has a target needs); null: no"
                + " target", nullable = true, example = "PT5M")
        String targetLag,
        @Schema(description = "The latest instant as of which the view's contents are known to reflect every"
                + " committed change of its sources (docs/freshness.md); null until matviews has refreshed it",
                nullable = true)
        OffsetDateTime dataTimestamp,
        @Schema(description = "Seconds from dataTimestamp to now, by the database clock", nullable = true)
        Double lagSeconds,
        @Schema(description = "When its lag last went past its target", nullable = true)
        OffsetDateTime targetMissedAt,
        @Schema(description = "Why the target was missed then: predicted duration above the target, workers busy,"
                + " upstream failed, lock held elsewhere, refresh failed, refresh took longer than predicted, or"
                + " scheduler late", nullable = true)
        String targetMissedReason,
        @Schema(description = "Scheduled or target-driven refreshes that failed in a row (manual ones do not count;"
                + " a success resets it)")
        int consecutiveFailures,
        @Schema(description = "No scheduled or target-driven refresh runs until it is resumed (POST .../resume);"
                + " a manual refresh still does")
        boolean suspended,
        @Schema(nullable = true)
        OffsetDateTime suspendedAt,
        @Schema(description = "Why: its own failures, or a registered view it reads that is suspended", nullable = true)
        String suspendedReason,
        @Schema(description = "The registration whose failures suspended it (itself or one it reads)", nullable = true)
        UUID suspendedBy,
        @Schema(description = "For an incremental view (refreshMode incremental): the query it is kept equal to;"
                + " null for a materialized view", nullable = true)
        String definition) {

    public String qualifiedName() {
        return schemaName + "." + viewName;
    }
}
