package dev.matviews.catalog;

import io.quarkus.runtime.annotations.RegisterForReflection;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.util.List;

/** One page of the catalog, in (schema, view) order. */
@Schema(name = "CatalogPage")
@RegisterForReflection
public record CatalogPage(
        List<CatalogEntry> items,
        @Schema(description = "Items in this page")
        int count,
        @Schema(description = "Pass as ?cursor= for the next page; null on the last page", nullable = true)
        String nextCursor) {
}
