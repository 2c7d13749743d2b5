package dev.matviews.registry;

import dev.matviews.problem.MatviewsException;

/** The request itself is wrong; nothing was executed. */
public final class InvalidInputException extends MatviewsException {
    public InvalidInputException(String detail) {
        super(detail);
    }
}
