package dev.matviews.schedule;

import dev.matviews.problem.MatviewsException;

/** The job is not in a state that allows what was asked (retry a running job, cancel a finished one). */
public final class JobStateException extends MatviewsException {
    public JobStateException(String detail) {
        super(detail);
    }
}
