package dev.matviews.problem;

import java.util.UUID;

/**
 * Base of every expected failure. They are answers, not bugs: no stack trace is captured, and
 * the message is the problem's detail, safe to show to a client.
 */
public abstract class MatviewsException extends RuntimeException {

    private volatile UUID runId;

    protected MatviewsException(String detail) {
        super(detail, null, false, false);
    }

    /** The run that recorded this failure, if one did. */
    public UUID runId() {
        return runId;
    }

    public MatviewsException withRun(UUID runId) {
        this.runId = runId;
        return this;
    }
}
