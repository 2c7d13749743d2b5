package dev.matviews.overview;

import dev.matviews.runs.Run;
import io.quarkus.runtime.annotations.RegisterForReflection;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

/** What an operator looks at first: how many views are in which state, which need attention, what failed, per hour. */
@Schema(name = "Overview")
@RegisterForReflection
public record Overview(
        @Schema(description = "When the database answered")
        OffsetDateTime generatedAt,
        @Schema(description = "The window of failures and hours, in hours back from now")
        int windowHours,
        Counts counts,
        @Schema(description = "Registrations behind their target, then failing, then suspended; the most urgent"
                + " of each first")
        List<Attention> attention,
        @Schema(description = "How many registrations need attention (attention lists at most attentionLimit)")
        int attentionTotal,
        @Schema(description = "Failed runs (error, timeout, abandoned) that ended in the window, newest first")
        List<Run> failures,
        @Schema(description = "How many runs failed in the window (failures lists at most failureLimit)")
        int failuresTotal,
        @Schema(description = "One entry per hour of the window, oldest first; the last is the hour now running")
        List<Hour> hours) {

    /** Each registration counted once, in the first state that applies: suspended, behind, failing, never, fresh. */
    @Schema(name = "OverviewCounts")
    @RegisterForReflection
    public record Counts(int total, int fresh, int behindTarget, int failing, int suspended, int neverRefreshed) {
    }

    /** One registration that needs attention, and why. */
    @Schema(name = "OverviewAttention")
    @RegisterForReflection
    public record Attention(
            UUID id,
            String schemaName,
            String viewName,
            @Schema(enumeration = {"behind-target", "failing", "suspended"})
            String state,
            @Schema(description = "Seconds since the instant its data reflects", nullable = true)
            Double lagSeconds,
            @Schema(description = "Its freshness target in seconds", nullable = true)
            Integer targetLagSeconds,
            @Schema(description = "Its maxStalenessSeconds (behind-target also covers a stale view)", nullable = true)
            Integer maxStalenessSeconds,
            @Schema(description = "The outcome of its last refresh", nullable = true)
            String lastRefreshStatus,
            @Schema(nullable = true)
            OffsetDateTime lastRefreshAt,
            @Schema(description = "Why: the last refresh's error, or the suspension's reason", nullable = true)
            String reason,
            @Schema(description = "Suspended: since when", nullable = true)
            OffsetDateTime suspendedAt) {
    }

    /** Runs that ended in one hour, by outcome, and the time the finished refreshes took. */
    @Schema(name = "OverviewHour")
    @RegisterForReflection
    public record Hour(
            @Schema(description = "The hour's start")
            OffsetDateTime hour,
            int success,
            @Schema(description = "error, timeout and abandoned runs")
            int failed,
            int cancelled,
            @Schema(description = "Runs skipped because nothing they read had changed (no REFRESH ran)")
            int skipped,
            @Schema(description = "Sum of durationMs of the runs that refreshed (success, failed, cancelled)")
            long refreshMs) {
    }
}
