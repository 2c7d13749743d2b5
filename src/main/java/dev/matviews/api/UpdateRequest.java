package dev.matviews.api;

import io.quarkus.runtime.annotations.RegisterForReflection;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Documents the PUT body; the resource reads it as JSON so it can tell "absent" from "null". */
@Schema(name = "UpdateRequest", description = "Fields to change; at least one. An absent field is left alone;"
        + " a timeout set to null goes back to the service default.")
@RegisterForReflection
public record UpdateRequest(
        @Schema(enumeration = {"standard", "concurrent"})
        String refreshMode,
        @Schema(minimum = "0", maximum = "86400000", nullable = true)
        Integer statementTimeoutMs,
        @Schema(minimum = "0", maximum = "86400000", nullable = true)
        Integer lockTimeoutMs,
        @Schema(minimum = "1", nullable = true)
        Integer maxStalenessSeconds) {
}
