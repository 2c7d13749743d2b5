package dev.matviews.refresh;

import dev.matviews.problem.MatviewsException;

/** This instance is shutting down and starts no refresh; another replica will. */
public final class ShuttingDownException extends MatviewsException {
    public ShuttingDownException(String instanceId) {
        super("instance " + instanceId + " is shutting down and starts no new refresh; try again (another replica"
                + " will take it)");
    }
}
