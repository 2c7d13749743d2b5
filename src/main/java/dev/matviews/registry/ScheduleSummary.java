package dev.matviews.registry;

import io.quarkus.runtime.annotations.RegisterForReflection;
import io.vertx.core.json.JsonObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.time.OffsetDateTime;
import java.util.UUID;

/** A registration's refresh schedule, as shown on the registration. */
@Schema(name = "ScheduleSummary")
@RegisterForReflection
public record ScheduleSummary(UUID id, String name, String cronExpr, String timezone, boolean enabled,
                              @Schema(nullable = true) OffsetDateTime nextRunAt) {

    static ScheduleSummary from(JsonObject json) {
        if (json == null) {
            return null;
        }
        String next = json.getString("nextRunAt");
        return new ScheduleSummary(UUID.fromString(json.getString("id")), json.getString("name"),
                json.getString("cronExpr"), json.getString("timezone"), json.getBoolean("enabled"),
                timestamp(next));
    }

    /**
     * A timestamptz as PostgreSQL writes it in JSON. Years past 9999 (written without the '+'
     * that ISO-8601 wants) and infinity are read rather than failing every list that shows the
     * schedule; schedules accepted today never get such dates.
     */
    static OffsetDateTime timestamp(String json) {
        if (json == null || json.endsWith("infinity")) {
            return null;
        }
        return OffsetDateTime.parse(json.matches("^\\d{5,}-.*") ? "+" + json : json);
    }
}
