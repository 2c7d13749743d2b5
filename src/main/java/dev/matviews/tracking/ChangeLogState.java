package dev.matviews.tracking;

import io.quarkus.runtime.annotations.RegisterForReflection;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.time.OffsetDateTime;

/** The change log of skipUnchanged and its capture, as bounded by max-log-age and max-log-size. */
@Schema(name = "ChangeLog")
@RegisterForReflection
public record ChangeLogState(
        @Schema(description = "Size of the change log on disk, indexes included")
        long bytes,
        @Schema(description = "Rows in the log (an estimate from the statistics when it is large)")
        long rows,
        @Schema(description = "When the oldest change still in the log was written; null if it is empty", nullable = true)
        OffsetDateTime oldestChangeAt,
        @Schema(description = "Whether writers on tracked tables log their changes now")
        boolean capturing,
        @Schema(description = "When capture stopped; null while it runs", nullable = true)
        OffsetDateTime stoppedAt,
        @Schema(description = "Why capture stopped; views reading tracked tables are refreshed in full until"
                + " change tracking is turned on again", nullable = true)
        String stopReason,
        @Schema(description = "Capture stops at this instant unless a replica compacts the log before it")
        OffsetDateTime deadline,
        @Schema(description = "The bounds in force (matviews.change-tracking.max-log-age, max-log-size)")
        long maxAgeSeconds,
        long maxBytes) {
}
