package dev.matviews.api;

import io.quarkus.runtime.annotations.RegisterForReflection;
import dev.matviews.registry.Registration;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.util.UUID;

@Schema(name = "RefreshResponse", description = "The registration as stored after the refresh, the REFRESH's duration and its run.")
@RegisterForReflection
public record RefreshResponse(Registration registration, long durationMs, UUID runId,
                              @Schema(description = "Set when the refresh was skipped because nothing changed"
                                      + " (skipUnchanged): why, naming the run whose data the view keeps; the run"
                                      + " is a skipped run", nullable = true)
                              String skipped) {
}
