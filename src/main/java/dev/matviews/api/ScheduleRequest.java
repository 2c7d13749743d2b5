package dev.matviews.api;

import io.quarkus.runtime.annotations.RegisterForReflection;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.util.Map;

/** Documents schedule request bodies; the resource reads them as JSON to tell absent fields apart. */
@Schema(name = "ScheduleRequest", description = "On create: name, jobType and cronExpr are required. On update: any"
        + " subset; the rest is kept.")
@RegisterForReflection
public record ScheduleRequest(
        @Schema(maxLength = 200, description = "Unique") String name,
        @Schema(enumeration = {"materialized_view_refresh"}) String jobType,
        @Schema(description = "For materialized_view_refresh: {\"schema\"?: \"public\", \"view_name\": \"...\"}")
        Map<String, Object> payload,
        @Schema(description = "5-field cron, 6 with leading seconds, @hourly/@daily/@weekly/@monthly/@yearly, or"
                + " @every <duration> (e.g. @every 5m)", example = "*/15 * * * *") String cronExpr,
        @Schema(description = "IANA time zone the cron is evaluated in", defaultValue = "UTC", example = "Europe/Berlin")
        String timezone,
        @Schema(defaultValue = "true") Boolean enabled,
        @Schema(minimum = "1", maximum = "100", defaultValue = "3") Integer maxAttempts,
        @Schema(description = "Bound of one attempt", minimum = "1000", maximum = "86400000", defaultValue = "3600000")
        Integer maxRuntimeMs,
        @Schema(enumeration = {"run_once", "skip"}, defaultValue = "run_once") String missedRunPolicy) {
}
