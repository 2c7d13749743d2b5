package dev.matviews.api;

import io.quarkus.runtime.annotations.RegisterForReflection;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.util.List;

@Schema(name = "Unregistered", description = "What was deleted along with the registration")
@RegisterForReflection
public record Unregistered(@Schema(description = "Names of the schedules deleted with it") List<String> removedSchedules) {
}
