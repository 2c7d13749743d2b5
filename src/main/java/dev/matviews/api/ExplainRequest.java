package dev.matviews.api;

import io.quarkus.runtime.annotations.RegisterForReflection;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** A definition to explain. */
@Schema(name = "ExplainRequest", description = "A view definition to analyse.")
@RegisterForReflection
public record ExplainRequest(
        @Schema(description = "The SELECT query of the view", required = true,
                examples = "SELECT bid, count(*) AS n, sum(abalance) AS total FROM public.pgbench_accounts GROUP BY bid")
        String definition) {
}
