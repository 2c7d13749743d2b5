package dev.matviews.auth;

import dev.matviews.problem.MatviewsException;

public final class LoginFailedException extends MatviewsException {
    public LoginFailedException(String detail) {
        super(detail);
    }
}
