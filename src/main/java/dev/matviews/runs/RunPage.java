package dev.matviews.runs;

import io.quarkus.runtime.annotations.RegisterForReflection;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.util.List;

/** One page of run history, newest first. */
@Schema(name = "RunPage")
@RegisterForReflection
public record RunPage(
        List<Run> items,
        int count,
        @Schema(description = "Pass as ?cursor= for the next (older) page; null on the last page", nullable = true)
        String nextCursor) {
}
