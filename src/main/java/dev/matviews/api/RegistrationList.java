package dev.matviews.api;

import dev.matviews.registry.Registration;
import dev.matviews.registry.RegistryService;
import io.quarkus.runtime.annotations.RegisterForReflection;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.util.List;

/** The list envelope of the original API, with the cursor of the next page when paging. */
@RegisterForReflection
public record RegistrationList(
        List<Registration> items,
        @Schema(description = "Items in this answer")
        int count,
        @Schema(description = "Pass as ?cursor= for the next page; null on the last page and without limit or cursor",
                nullable = true)
        String nextCursor) {

    public static RegistrationList of(List<Registration> items) {
        return new RegistrationList(items, items.size(), null);
    }

    public static RegistrationList of(RegistryService.Page page) {
        return new RegistrationList(page.items(), page.items().size(), page.nextCursor());
    }
}
