package dev.matviews.refresh;

/** The REFRESH itself failed in PostgreSQL (or its connection broke); the error was recorded on the run. */
public final class RefreshFailedException extends RefreshException {

    RefreshFailedException(String detail, RefreshFailure failure) {
        super(detail, failure);
    }

    /** SQLSTATE of the PostgreSQL error, or null when the failure was not PostgreSQL's. */
    public String sqlState() {
        return failure().sqlState();
    }
}
