package dev.matviews.tracking;

import dev.matviews.problem.MatviewsException;

/** A source table stayed locked by its writers past the lock timeout (SQLSTATE 55P03): nothing changed; retry. */
public final class ChangeTrackingBusyException extends MatviewsException {
    public ChangeTrackingBusyException(String detail) {
        super(detail);
    }
}
