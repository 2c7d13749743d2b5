package dev.matviews.problem;

/**
 * Base of every expected failure. They are answers, not bugs: no stack trace is captured, and
 * the message is the problem's detail, safe to show to a client.
 */
public abstract class MatviewsException extends RuntimeException {
    protected MatviewsException(String detail) {
        super(detail, null, false, false);
    }
}
