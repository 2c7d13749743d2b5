package dev.matviews.registry;

import java.time.OffsetDateTime;
import java.util.UUID;

/** A materialized view under management and the outcome of its latest refresh. */
public record Registration(
        UUID id,
        String schemaName,
        String viewName,
        RefreshMode refreshMode,
        OffsetDateTime lastRefreshAt,
        Integer lastRefreshDurationMs,
        String lastRefreshStatus,
        String lastRefreshError,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {

    public String qualifiedName() {
        return schemaName + "." + viewName;
    }
}
