package dev.matviews.registry;

import dev.matviews.problem.InvalidInputException;

/** Validation of per-registration timeouts: whole milliseconds, 0 for none, null for the default. */
public final class Timeouts {

    /** A day: anything longer is more likely a unit mistake than a wish. */
    public static final int MAX_MS = 86_400_000;

    private Timeouts() {
    }

    public static Integer require(String field, Integer ms) {
        if (ms != null && (ms < 0 || ms > MAX_MS)) {
            throw new InvalidInputException(field + " must be between 0 (no limit) and " + MAX_MS + " ms, got " + ms);
        }
        return ms;
    }
}
