package dev.matviews.cascade;

import dev.matviews.problem.MatviewsException;

import java.util.UUID;

public final class CascadeNotFoundException extends MatviewsException {
    public CascadeNotFoundException(UUID id) {
        super("no cascade with id " + id);
    }
}
