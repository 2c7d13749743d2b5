package dev.matviews.refresh;

import dev.matviews.problem.MatviewsException;

/** CONCURRENTLY needs a unique index PostgreSQL can use; the detail says why none qualifies. */
public final class UniqueIndexRequiredException extends MatviewsException {
    public UniqueIndexRequiredException(String detail) {
        super(detail);
    }
}
