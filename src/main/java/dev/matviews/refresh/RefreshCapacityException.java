package dev.matviews.refresh;

import dev.matviews.problem.MatviewsException;

/** Every refresh slot is taken; refusing keeps connections free for the rest of the API. */
public final class RefreshCapacityException extends MatviewsException {
    public RefreshCapacityException(int limit) {
        super("all " + limit + " refresh slots of this instance are busy; try again shortly");
    }
}
