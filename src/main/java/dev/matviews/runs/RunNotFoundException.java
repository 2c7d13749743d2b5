package dev.matviews.runs;

import dev.matviews.problem.MatviewsException;

import java.util.UUID;

public final class RunNotFoundException extends MatviewsException {
    public RunNotFoundException(UUID runId) {
        super("no refresh run with id " + runId);
    }
}
