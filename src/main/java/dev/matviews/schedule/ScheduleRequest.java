package dev.matviews.schedule;

import dev.matviews.config.Limits;
import io.quarkus.runtime.annotations.RegisterForReflection;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.Size;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.util.Map;

/**
 * The fields of a schedule as a request gives them; null means "not given" (kept on update,
 * defaulted on create). Its limits are the constraints here, checked before the service sees it.
 */
@Schema(name = "ScheduleRequest", description = "On create: name, jobType and cronExpr are required. On update: any"
        + " subset; the rest is kept.")
@RegisterForReflection
public record ScheduleRequest(
        @Schema(description = "Unique")
        @Size(max = 200, message = "must be at most {max} characters")
        String name,
        @Schema(enumeration = {ScheduleRepository.MATVIEW_JOB})
        @Size(max = 100, message = "must be at most {max} characters")
        String jobType,
        @Schema(description = "For materialized_view_refresh: {\"schema\"?: \"public\", \"view_name\": \"...\","
                + " \"cascade\"?: \"downstream\" | \"upstream\", \"parallelism\"?: " + Limits.PARALLELISM_MIN + "-"
                + Limits.PARALLELISM_MAX + ", \"onBusy\"?: \"wait\" | \"skip\"};"
                + " with cascade, each firing refreshes the view with its registered dependents (or ancestors)")
        Map<String, Object> payload,
        @Schema(description = "5-field cron, 6 with leading seconds, @hourly/@daily/@weekly/@monthly/@yearly, or"
                + " @every <duration> from 1s to 366d (e.g. @every 5m); it must have a next due time",
                example = "*/15 * * * *")
        @Size(max = 200, message = "must be at most {max} characters")
        String cronExpr,
        @Schema(description = "IANA time zone the cron is evaluated in", defaultValue = "UTC", example = "Europe/Berlin")
        @Size(max = 64, message = "must be at most {max} characters")
        String timezone,
        @Schema(defaultValue = "true")
        Boolean enabled,
        @Schema(defaultValue = "3")
        @Min(value = 1, message = "must be between 1 and 100")
        @Max(value = 100, message = "must be between 1 and 100")
        Integer maxAttempts,
        @Schema(description = "Bound of one attempt", defaultValue = "3600000")
        @Min(value = 1000, message = "must be between 1000 and 86400000")
        @Max(value = 86_400_000, message = "must be between 1000 and 86400000")
        Integer maxRuntimeMs,
        @Schema(enumeration = {"run_once", "skip"}, defaultValue = "run_once")
        @Size(max = 20, message = "must be run_once or skip")
        String missedRunPolicy) {

    /** The same request with the view schedule's fixed parts. */
    ScheduleRequest forView(String viewScheduleName, Map<String, Object> viewPayload) {
        return new ScheduleRequest(viewScheduleName, ScheduleRepository.MATVIEW_JOB, viewPayload, cronExpr, timezone,
                enabled, maxAttempts, maxRuntimeMs, missedRunPolicy);
    }
}
