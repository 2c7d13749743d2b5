package dev.matviews.tracking;

import io.quarkus.runtime.annotations.RegisterForReflection;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.util.List;
import java.util.UUID;

/** Whether a registration's refreshes can be skipped when nothing changed, and what that rests on. */
@Schema(name = "ChangeTracking")
@RegisterForReflection
public record ChangeTracking(
        UUID registrationId,
        boolean skipUnchanged,
        @Schema(description = "Every table the view reads, at any depth through plain views (partitions and"
                + " inheritance children included), and whether its changes are recorded for this registration")
        List<Table> tables,
        @Schema(description = "Materialized views it reads: changed when they were refreshed")
        List<String> materializedViews,
        @Schema(description = "Why it can never be skipped (a volatile or stable function, a foreign table, a"
                + " matview nobody registered, a table without tracking); null when it can be", nullable = true)
        String neverSkipped,
        @Schema(description = "What its next refresh would do now: null when it would be skipped, else why it"
                + " refreshes", nullable = true)
        String nextRefresh) {

    @Schema(name = "TrackedTable")
    @RegisterForReflection
    public record Table(
            @Schema(description = "The table, as PostgreSQL names it (regclass)")
            String table,
            @Schema(description = "Its change trigger exists, is enabled ALWAYS, and this registration claims it")
            boolean tracked) {
    }
}
