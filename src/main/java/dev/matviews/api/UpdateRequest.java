package dev.matviews.api;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

@Schema(name = "UpdateRequest", description = "The new refresh mode of a registration.")
public record UpdateRequest(
        @Schema(required = true, enumeration = {"standard", "concurrent"})
        String refreshMode) {
}
