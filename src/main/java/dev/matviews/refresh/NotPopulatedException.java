package dev.matviews.refresh;

import dev.matviews.problem.MatviewsException;

/** CONCURRENTLY cannot run on a view that was never populated (WITH NO DATA). */
public final class NotPopulatedException extends MatviewsException {
    public NotPopulatedException(String detail) {
        super(detail);
    }
}
