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
                next == null ? null : OffsetDateTime.parse(next));
    }
}
