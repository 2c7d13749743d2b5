package dev.matviews.problem;

/** The request itself is wrong; nothing was executed. */
public final class InvalidInputException extends MatviewsException {
    public InvalidInputException(String detail) {
        super(detail);
    }
}
