package dev.matviews.refresh;

import dev.matviews.problem.MatviewsException;

/** Another session holds the view's refresh lock; the stored outcome was not touched. */
public final class RefreshInProgressException extends MatviewsException {
    public RefreshInProgressException(String qualifiedName) {
        super("a refresh of " + qualifiedName + " is already in progress");
    }
}
