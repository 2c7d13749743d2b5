package dev.matviews.catalog;

import io.quarkus.runtime.annotations.RegisterForReflection;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.util.List;
import java.util.UUID;

/** A materialized view of the database as the service's role sees it, registered or not. */
@Schema(name = "CatalogEntry")
@RegisterForReflection
public record CatalogEntry(
        String schemaName,
        String viewName,
        @Schema(description = "The owning role")
        String owner,
        @Schema(description = "Whether the service's role may refresh it: USAGE on the schema and MAINTAIN"
                + " (PostgreSQL 17+) or the owner's privileges (before 17)")
        boolean canRefresh,
        @Schema(description = "What the role lacks to refresh it: USAGE, MAINTAIN or OWNER; null if nothing",
                nullable = true, enumeration = {"USAGE", "MAINTAIN", "OWNER"})
        String missingPrivilege,
        @Schema(description = "False if created WITH NO DATA and never refreshed")
        boolean populated,
        @Schema(description = "Size on disk, indexes and TOAST included, in bytes")
        long sizeBytes,
        @Schema(description = "PostgreSQL's row estimate (reltuples); null before the first ANALYZE or VACUUM",
                nullable = true)
        Long rowEstimate,
        List<UniqueIndex> uniqueIndexes,
        @Schema(description = "Whether REFRESH ... CONCURRENTLY would be accepted now (what mode auto picks)")
        boolean concurrentEligible,
        @Schema(description = "Why CONCURRENTLY would be refused; null if eligible", nullable = true)
        String concurrentIneligibleReason,
        @Schema(description = "Its registration, if registered", nullable = true)
        UUID registrationId,
        @Schema(description = "What it reads: tables, plain views and materialized views, through any depth of"
                + " plain views")
        List<Relation> upstream,
        @Schema(description = "Materialized views that read it, directly or through plain views")
        List<Relation> downstream) {

    /** A unique index and whether CONCURRENTLY can use it (PostgreSQL's is_usable_unique_index). */
    @Schema(name = "CatalogUniqueIndex")
    @RegisterForReflection
    public record UniqueIndex(
            String name,
            boolean usable,
            @Schema(description = "Which rule it fails: invalid, deferrable, partial, on an expression, not btree,"
                    + " without key columns; null if usable", nullable = true)
            String reason) {
    }

    /** A relation on the path of a dependency. */
    @Schema(name = "CatalogRelation")
    @RegisterForReflection
    public record Relation(
            String schemaName,
            String name,
            @Schema(enumeration = {"table", "partitioned table", "view", "materialized view", "foreign table"})
            String kind) {
    }

    /** Null if CONCURRENTLY would be accepted, else why not, in PostgreSQL's order (populated first). */
    static String concurrentBlocker(boolean populated, List<UniqueIndex> indexes) {
        if (!populated) {
            return "not populated (created WITH NO DATA or never refreshed)";
        }
        if (indexes.stream().anyMatch(UniqueIndex::usable)) {
            return null;
        }
        if (indexes.isEmpty()) {
            return "no unique index";
        }
        StringBuilder why = new StringBuilder("no usable unique index: ");
        for (int i = 0; i < indexes.size(); i++) {
            why.append(i == 0 ? "" : "; ").append(indexes.get(i).name()).append(" is ").append(indexes.get(i).reason());
        }
        return why.toString();
    }
}
