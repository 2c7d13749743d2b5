package dev.matviews.cascade;

import dev.matviews.problem.MatviewsException;

import java.util.UUID;

/** A cancel of a cascade that has already ended. */
public final class CascadeFinishedException extends MatviewsException {
    public CascadeFinishedException(UUID id, String status) {
        super("cascade " + id + " has already ended (" + status + ")");
    }
}
