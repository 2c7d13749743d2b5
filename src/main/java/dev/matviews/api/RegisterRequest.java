package dev.matviews.api;

import io.quarkus.runtime.annotations.RegisterForReflection;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

@Schema(name = "RegisterRequest", description = "A materialized view to register.")
@RegisterForReflection
public record RegisterRequest(
        @Schema(description = "Schema of the view", defaultValue = "public", maxLength = 63,
                pattern = "^[A-Za-z_][A-Za-z0-9_]*$")
        String schema,
        @Schema(description = "Name of the materialized view", required = true, maxLength = 63,
                pattern = "^[A-Za-z_][A-Za-z0-9_]*$")
        String viewName,
        @Schema(description = "How to refresh it", enumeration = {"standard", "concurrent"}, defaultValue = "standard")
        String refreshMode,
        @Schema(description = "statement_timeout of its refreshes in ms, 0 for none; omitted: the service default",
                minimum = "0", maximum = "86400000", nullable = true)
        Integer statementTimeoutMs,
        @Schema(description = "lock_timeout of its refreshes in ms, 0 for none; omitted: the service default",
                minimum = "0", maximum = "86400000", nullable = true)
        Integer lockTimeoutMs,
        @Schema(description = "Stale once its last success is older than this many seconds", minimum = "1",
                nullable = true)
        Integer maxStalenessSeconds) {
}
