package dev.matviews.cascade;

import io.quarkus.runtime.annotations.RegisterForReflection;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

/** A cascade as any replica shows it: its plan, and each node's latest run in it. */
@Schema(name = "Cascade")
@RegisterForReflection
public record Cascade(
        UUID id,
        @Schema(enumeration = {"downstream", "upstream", "all"})
        String direction,
        @Schema(description = "The view it started from; null for refresh-all", nullable = true)
        UUID rootRegistrationId,
        @Schema(description = "refresh-all limited to the registered views of this schema", nullable = true)
        String schemaName,
        @Schema(description = "The job that started it (a schedule with a cascade in its payload)", nullable = true)
        UUID jobId,
        @Schema(enumeration = {"manual", "async", "schedule"})
        String trigger,
        @Schema(description = "running; success (every node refreshed); failed (a node failed or was skipped);"
                + " cancelled; abandoned (its instance stopped before it ended)",
                enumeration = {"running", "success", "failed", "cancelled", "abandoned"})
        String status,
        String instanceId,
        @Schema(description = "Nodes refreshed at once at most")
        int parallelism,
        @Schema(description = "What a node does when its view is being refreshed elsewhere", enumeration = {"wait", "skip"})
        String onBusy,
        OffsetDateTime startedAt,
        @Schema(nullable = true)
        OffsetDateTime finishedAt,
        @Schema(nullable = true)
        OffsetDateTime cancelRequestedAt,
        @Schema(description = "In the order they may run: parents first")
        List<Node> nodes) {

    @Schema(name = "CascadeNode")
    @RegisterForReflection
    public record Node(
            UUID registrationId,
            String schemaName,
            String viewName,
            @Schema(description = "Registrations of this cascade that must succeed before this node starts")
            List<UUID> after,
            @Schema(description = "pending (not started), the status of its run in this cascade, or abandoned (its"
                    + " cascade was abandoned before it started)",
                    enumeration = {"pending", "running", "success", "error", "cancelled", "timeout", "skipped",
                            "abandoned"})
            String status,
            @Schema(nullable = true)
            UUID runId,
            @Schema(nullable = true)
            OffsetDateTime startedAt,
            @Schema(nullable = true)
            OffsetDateTime finishedAt,
            @Schema(description = "The run's error, or why it was skipped", nullable = true)
            String error) {
    }
}
