package dev.matviews.events;

import dev.matviews.problem.MatviewsException;

/** This instance already serves its maximum of event streams. */
public final class TooManyStreamsException extends MatviewsException {
    public TooManyStreamsException(int max) {
        super("this instance already serves " + max + " event streams (matviews.events.max-streams); try again later"
                + " or another replica");
    }

    private TooManyStreamsException(String detail) {
        super(detail);
    }

    /** This caller already holds its share. */
    static TooManyStreamsException perPrincipal(int max) {
        return new TooManyStreamsException("you already hold " + max + " event streams on this instance"
                + " (matviews.events.max-streams-per-principal); close one first");
    }
}
