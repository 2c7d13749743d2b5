package dev.matviews.runs;

import io.quarkus.runtime.annotations.RegisterForReflection;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.time.OffsetDateTime;
import java.util.List;

/** The runs of every view that overlap a window of time, oldest start first. */
@Schema(name = "RunWindow")
@RegisterForReflection
public record RunWindow(
        OffsetDateTime from,
        OffsetDateTime to,
        List<Run> items,
        @Schema(description = "More runs overlap the window than limit: the items are the first by start")
        boolean truncated) {
}
