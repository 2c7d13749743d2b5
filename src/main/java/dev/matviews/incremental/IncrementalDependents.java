package dev.matviews.incremental;

import dev.matviews.registry.Registration;
import dev.matviews.registry.RegistrationDependents;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlClient;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.List;

/**
 * An unregistered incremental view's plan goes with it, and its source tables' capture becomes
 * what their other claims need (none: the triggers and their change rows go). Its table stays
 * unless the caller asked to drop it.
 */
@ApplicationScoped
public class IncrementalDependents implements RegistrationDependents {

    private final IncrementalRepository repository;

    public IncrementalDependents(IncrementalRepository repository) {
        this.repository = repository;
    }

    @Override
    public Uni<List<String>> removeFor(SqlClient tx, Registration registration) {
        return repository.deletePlan(tx, registration.id())
                .flatMap(sources -> repository.syncCapture(tx, sources.stream().sorted().toList()))
                .replaceWith(List.of());
    }
}
