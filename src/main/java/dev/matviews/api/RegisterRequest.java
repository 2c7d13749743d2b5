package dev.matviews.api;

import dev.matviews.registry.TargetLag;
import dev.matviews.registry.Identifiers;
import dev.matviews.registry.Timeouts;
import io.quarkus.runtime.annotations.RegisterForReflection;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** A materialized view to register; its limits are checked by {@link RequestValidator} and shown in OpenAPI. */
@Schema(name = "RegisterRequest", description = "A materialized view to register.")
@RegisterForReflection
public record RegisterRequest(
        // Identifiers are checked by the registry (job payloads name views too); shown here.
        @Schema(description = "Schema of the view", defaultValue = "public", maxLength = Identifiers.MAX_BYTES,
                pattern = Identifiers.PATTERN)
        String schema,
        @Schema(description = "Name of the materialized view", required = true, maxLength = Identifiers.MAX_BYTES,
                pattern = Identifiers.PATTERN)
        String viewName,
        @Schema(description = "How to refresh it. auto: concurrent when the view is populated and has a unique"
                + " index CONCURRENTLY can use, else standard, decided at every refresh (each run records the"
                + " mode it used and why). incremental: with definition, matviews creates viewName as a table"
                + " and keeps it equal to the definition by applying its sources' changes (docs/incremental.md)",
                enumeration = {"standard", "concurrent", "auto", "incremental"}, defaultValue = "standard")
        String refreshMode,
        @Schema(description = "statement_timeout of its refreshes in ms, 0 for none; omitted: the service default",
                nullable = true)
        @Min(value = 0, message = "must be at least {value} (0: no limit)")
        @Max(value = Timeouts.MAX_MS, message = "must be at most {value} ms")
        Integer statementTimeoutMs,
        @Schema(description = "lock_timeout of its refreshes in ms, 0 for none; omitted: the service default",
                nullable = true)
        @Min(value = 0, message = "must be at least {value} (0: no limit)")
        @Max(value = Timeouts.MAX_MS, message = "must be at most {value} ms")
        Integer lockTimeoutMs,
        @Schema(description = "Stale once its last success is older than this many seconds", nullable = true)
        @Min(value = 1, message = "must be a positive number of seconds")
        Integer maxStalenessSeconds,
        @Schema(description = "Skip a refresh when no source of the view changed since its last successful"
                + " refresh began (exact; needs change tracking on its source tables)", defaultValue = "false")
        Boolean skipUnchanged,
        @Schema(description = "With skipUnchanged: refresh anyway once the last successful refresh began longer"
                + " ago than this many seconds", nullable = true)
        @Min(value = 1, message = "must be a positive number of seconds")
        @Max(value = 31622400, message = "must be at most {value} seconds (366 days)")
        Integer maxSkipAgeSeconds,
        @Schema(description = TargetLag.DESCRIPTION, nullable = true, example = "PT5M", maxLength = 40)
        String targetLag,
        @Schema(description = "With refreshMode incremental: the SELECT the view's table is kept equal to"
                + " (POST /api/admin/matviews/explain says whether it can be)", nullable = true,
                maxLength = InputLimits.MAX_STRING)
        String definition) {
}
