package dev.matviews.auth;

import dev.matviews.problem.MatviewsException;

import java.time.Duration;

/** Too many login attempts from this client: refused before the password was looked at. */
public final class LoginThrottledException extends MatviewsException {

    private final long retryAfterSeconds;

    public LoginThrottledException(Duration wait) {
        super("too many login attempts from this address; try again in " + Math.max(1, ceilSeconds(wait)) + " s");
        this.retryAfterSeconds = Math.max(1, ceilSeconds(wait));
    }

    private static long ceilSeconds(Duration wait) {
        return (wait.toMillis() + 999) / 1000;
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
