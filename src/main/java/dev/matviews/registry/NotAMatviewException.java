package dev.matviews.registry;

import dev.matviews.problem.MatviewsException;

/** Registering something that is not a materialized view of this database. */
public final class NotAMatviewException extends MatviewsException {
    public NotAMatviewException(String schema, String view) {
        super("no materialized view " + schema + "." + view + " exists in the database");
    }
}
