package dev.matviews.refresh;

import dev.matviews.problem.MatviewsException;

/** statement_timeout or lock_timeout ended the refresh; recorded as timeout. */
public final class RefreshTimeoutException extends MatviewsException {
    public RefreshTimeoutException(String detail) {
        super(detail);
    }
}
