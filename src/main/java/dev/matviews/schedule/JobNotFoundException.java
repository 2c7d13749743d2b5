package dev.matviews.schedule;

import dev.matviews.problem.MatviewsException;

import java.util.UUID;

public final class JobNotFoundException extends MatviewsException {
    public JobNotFoundException(UUID id) {
        super("no job with id " + id);
    }
}
