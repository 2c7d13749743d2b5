package dev.matviews.tracking;

import dev.matviews.registry.Registration;
import dev.matviews.registry.RegistrationDependents;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlClient;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.List;

/** An unregistered view's claims on its source tables go with it; triggers nobody claims are dropped. */
@ApplicationScoped
public class TrackingDependents implements RegistrationDependents {

    private final ChangeTrackingRepository repository;

    public TrackingDependents(ChangeTrackingRepository repository) {
        this.repository = repository;
    }

    @Override
    public Uni<List<String>> removeFor(SqlClient tx, Registration registration) {
        // Not named in the answer: the answer lists removed schedules.
        return repository.untrack(tx, registration.id()).replaceWith(List.of());
    }
}
