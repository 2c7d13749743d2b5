package dev.matviews.refresh;

import dev.matviews.problem.MatviewsException;

/** The refresh was cancelled (through the API, or by its client going away); recorded as cancelled. */
public final class RefreshCancelledException extends MatviewsException {
    public RefreshCancelledException(String detail) {
        super(detail);
    }
}
