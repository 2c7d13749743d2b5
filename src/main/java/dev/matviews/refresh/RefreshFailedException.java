package dev.matviews.refresh;

import dev.matviews.problem.MatviewsException;

/** The REFRESH itself failed in PostgreSQL; the error was recorded on the registration. */
public final class RefreshFailedException extends MatviewsException {
    private final String sqlState;

    public RefreshFailedException(String detail, String sqlState) {
        super(detail);
        this.sqlState = sqlState;
    }

    /** SQLSTATE of the PostgreSQL error, or null when the failure was not PostgreSQL's. */
    public String sqlState() {
        return sqlState;
    }
}
