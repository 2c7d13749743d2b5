package dev.matviews.registry;

import dev.matviews.problem.MatviewsException;

/** The registration exists but its materialized view was dropped or renamed. */
public final class MatviewGoneException extends MatviewsException {
    public MatviewGoneException(String qualifiedName) {
        super("materialized view " + qualifiedName + " no longer exists");
    }
}
