package dev.matviews.registry;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlClient;

import java.util.List;

/**
 * What other parts of the service keep for a registered view and remove when it is unregistered,
 * in the unregistering transaction, so that nothing brings the view back behind the user's back.
 * Implemented where that data is owned (the schedules), so the registry needs to know none of it.
 */
public interface RegistrationDependents {

    /** Removes what belongs to the unregistered {@code registration}; names of what was removed. */
    Uni<List<String>> removeFor(SqlClient tx, Registration registration);
}
