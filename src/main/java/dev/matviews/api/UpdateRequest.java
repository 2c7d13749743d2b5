package dev.matviews.api;

import dev.matviews.registry.TargetLag;
import dev.matviews.registry.Timeouts;
import io.quarkus.runtime.annotations.RegisterForReflection;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * The PUT body. The resource reads it as JSON so it can tell "absent" from "null", then checks
 * the values given against the limits here.
 */
@Schema(name = "UpdateRequest", description = "Fields to change; at least one. An absent field is left alone;"
        + " a timeout set to null goes back to the service default.")
@RegisterForReflection
public record UpdateRequest(
        @Schema(enumeration = {"standard", "concurrent", "auto"})
        String refreshMode,
        @Schema(nullable = true)
        @Min(value = 0, message = "must be at least {value} (0: no limit)")
        @Max(value = Timeouts.MAX_MS, message = "must be at most {value} ms")
        Integer statementTimeoutMs,
        @Schema(nullable = true)
        @Min(value = 0, message = "must be at least {value} (0: no limit)")
        @Max(value = Timeouts.MAX_MS, message = "must be at most {value} ms")
        Integer lockTimeoutMs,
        @Schema(nullable = true)
        @Min(value = 1, message = "must be a positive number of seconds")
        Integer maxStalenessSeconds,
        Boolean skipUnchanged,
        @Schema(nullable = true)
        @Min(value = 1, message = "must be a positive number of seconds")
        @Max(value = 31622400, message = "must be at most {value} seconds (366 days)")
        Integer maxSkipAgeSeconds,
        @Schema(description = TargetLag.DESCRIPTION, nullable = true, example = "PT5M", maxLength = 40)
        String targetLag) {
}
