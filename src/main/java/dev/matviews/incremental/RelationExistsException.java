package dev.matviews.incremental;

import dev.matviews.problem.MatviewsException;

/** An incremental view's table would take a name a relation of the database already has. */
public final class RelationExistsException extends MatviewsException {
    public RelationExistsException(String qualified) {
        super("a relation named " + qualified + " already exists; an incremental view is a table matviews creates");
    }
}
