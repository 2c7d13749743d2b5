package dev.matviews.registry;

import dev.matviews.problem.MatviewsException;

public final class AlreadyRegisteredException extends MatviewsException {
    public AlreadyRegisteredException(String schema, String view) {
        super("materialized view " + schema + "." + view + " is already registered");
    }
}
