package dev.matviews.tracking;

import dev.matviews.problem.MatviewsException;

/** PostgreSQL refused the trigger on a source table (SQLSTATE 42501): the detail names the table and what is missing. */
public final class ChangeTrackingNotPermittedException extends MatviewsException {
    public ChangeTrackingNotPermittedException(String detail) {
        super(detail);
    }
}
