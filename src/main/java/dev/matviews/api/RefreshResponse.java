package dev.matviews.api;

import dev.matviews.registry.Registration;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

@Schema(name = "RefreshResponse", description = "The registration as stored after the refresh, and the REFRESH's duration.")
public record RefreshResponse(Registration registration, long durationMs) {
}
