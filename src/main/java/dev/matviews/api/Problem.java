package dev.matviews.api;

import io.quarkus.runtime.annotations.RegisterForReflection;
import com.fasterxml.jackson.annotation.JsonInclude;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.util.UUID;

/**
 * RFC 9457 problem details, plus {@code code} and {@code message} for clients of the original
 * API, which read those.
 */
@Schema(name = "Problem", description = "RFC 9457 problem details (application/problem+json).")
@JsonInclude(JsonInclude.Include.NON_NULL)
@RegisterForReflection
public record Problem(
        @Schema(description = "Identifies the kind of problem; stable, compare this rather than text",
                example = "urn:matviews:problem:refresh-in-progress")
        String type,
        @Schema(example = "Refresh already in progress")
        String title,
        @Schema(example = "409")
        int status,
        @Schema(example = "a refresh of public.leaderboard is already in progress")
        String detail,
        @Schema(description = "Same as status (original API)", example = "409")
        int code,
        @Schema(description = "Same as detail (original API)")
        String message,
        @Schema(description = "SQLSTATE of the PostgreSQL error behind a failed refresh", nullable = true)
        String sqlState,
        @Schema(description = "The run that recorded this failure", nullable = true)
        UUID runId) {

    public static final String MEDIA_TYPE = "application/problem+json";
    static final String TYPE_PREFIX = "urn:matviews:problem:";

    static Problem of(ProblemType type, String detail, String sqlState) {
        return of(type, detail, sqlState, null);
    }

    static Problem of(ProblemType type, String detail, String sqlState, UUID runId) {
        return new Problem(TYPE_PREFIX + type.slug(), type.title(), type.status(), detail, type.status(), detail,
                sqlState, runId);
    }
}
