package dev.matviews.incremental;

import dev.matviews.problem.InvalidInputException;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.List;

/** Incremental views: which definitions can be maintained from their changes. */
@ApplicationScoped
public class IncrementalService {

    /** The answer of explain. */
    @io.quarkus.runtime.annotations.RegisterForReflection
    public record Explanation(boolean incrementalEligible, List<String> reasons, List<String> columns, List<String> sources) {
    }

    private final DefinitionRepository definitions;

    public IncrementalService(DefinitionRepository definitions) {
        this.definitions = definitions;
    }

    public Uni<Explanation> explain(String definition) {
        if (definition == null || definition.isBlank()) {
            return Uni.createFrom().failure(new InvalidInputException("definition is required: a SELECT query"));
        }
        if (definition.indexOf('\0') >= 0) {
            // PostgreSQL's protocol cannot carry it: the statement would break the connection (08P01)
            return Uni.createFrom().failure(new InvalidInputException("definition must not contain a NUL character"));
        }
        return definitions.parse(definition).map(parsed -> {
            Eligibility.Result result = Eligibility.check(parsed.query(), parsed.columns(), parsed.incomparable(),
                    parsed.catalog());
            return new Explanation(result.eligible(), result.reasons(), parsed.columns(), result.sources());
        });
    }
}
