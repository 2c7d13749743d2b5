package dev.matviews.refresh;

import dev.matviews.runs.RunStatus;

/**
 * How a refresh that reached PostgreSQL failed, classified in one place: the run's status, what
 * is recorded, and whether trying again later can help (the job handler retries only then).
 *
 * @param sqlState PostgreSQL's SQLSTATE, or null when the connection was lost
 * @param recorded the run's error: what happened, with PostgreSQL's message and SQLSTATE
 */
public record RefreshFailure(Kind kind, RunStatus status, String sqlState, String recorded) {

    /** query_canceled: a cancel request or statement_timeout. */
    static final String QUERY_CANCELED = "57014";
    static final String LOCK_NOT_AVAILABLE = "55P03";
    static final String UNDEFINED_TABLE = "42P01";
    /** A cancel this close to statement_timeout is taken to be the timeout. */
    static final long TIMEOUT_SLACK_MS = 25;

    public enum Kind {
        /** Cancelled on request: by this instance (its caller went away, shutdown) or a run cancel. */
        CANCELLED,
        STATEMENT_TIMEOUT,
        /** lock_timeout while waiting for the view's table lock. */
        LOCK_TIMEOUT,
        /** CONCURRENTLY without a unique index it can use. */
        UNIQUE_INDEX_REQUIRED,
        /** CONCURRENTLY on a view that is not populated. */
        NOT_POPULATED,
        /** The view's owner may not read what the view reads (the preflight checked the service's own role). */
        NOT_PERMITTED,
        /** The view was dropped after the preflight. */
        GONE,
        /** Any other PostgreSQL error. */
        FAILED,
        /** The connection broke: PostgreSQL's answer, if any, is unknown. */
        CONNECTION_LOST
    }

    /**
     * Whether a later attempt may succeed: not after a cancel, not for what only a change to the
     * view, its grants or the database can fix (SQLSTATE class 42: syntax, privileges, undefined
     * objects), and not for CONCURRENTLY's prerequisites.
     */
    public boolean retryable() {
        return switch (kind) {
            case CANCELLED, UNIQUE_INDEX_REQUIRED, NOT_POPULATED, NOT_PERMITTED, GONE -> false;
            case STATEMENT_TIMEOUT, LOCK_TIMEOUT, CONNECTION_LOST -> true;
            case FAILED -> sqlState == null || !sqlState.startsWith("42");
        };
    }

    /**
     * Classifies PostgreSQL's error for a REFRESH. SQLSTATE alone cannot tell a statement timeout
     * from a cancel (and messages are localised): a cancel this instance did not send, at the
     * statement timeout, is the timeout.
     *
     * @param cancelReason why this instance cancelled the refresh, or null if it did not
     * @param elapsedMs    how long the REFRESH message ran
     */
    public static RefreshFailure classify(String sqlState, String message, boolean concurrent, String cancelReason,
                                          long elapsedMs, RefreshSettings settings) {
        String error = message + " (SQLSTATE " + sqlState + ")";
        if (QUERY_CANCELED.equals(sqlState) && cancelReason != null) {
            return new RefreshFailure(Kind.CANCELLED, RunStatus.CANCELLED, sqlState,
                    "refresh cancelled: " + cancelReason + "; " + error);
        }
        if (QUERY_CANCELED.equals(sqlState) && settings.statementTimeoutMs() > 0
                && elapsedMs + TIMEOUT_SLACK_MS >= settings.statementTimeoutMs()) {
            return new RefreshFailure(Kind.STATEMENT_TIMEOUT, RunStatus.TIMEOUT, sqlState,
                    "statement_timeout of " + settings.statementTimeoutMs() + " ms reached; " + error);
        }
        if (QUERY_CANCELED.equals(sqlState)) {
            return new RefreshFailure(Kind.CANCELLED, RunStatus.CANCELLED, sqlState, "refresh cancelled; " + error);
        }
        if (LOCK_NOT_AVAILABLE.equals(sqlState)) {
            return new RefreshFailure(Kind.LOCK_TIMEOUT, RunStatus.TIMEOUT, sqlState,
                    "lock_timeout of " + settings.lockTimeoutMs() + " ms reached; " + error);
        }
        Kind kind = concurrent && "55000".equals(sqlState) ? Kind.UNIQUE_INDEX_REQUIRED
                : concurrent && "0A000".equals(sqlState) ? Kind.NOT_POPULATED
                : RefreshNotPermittedException.SQLSTATE.equals(sqlState) ? Kind.NOT_PERMITTED
                : UNDEFINED_TABLE.equals(sqlState) ? Kind.GONE
                : Kind.FAILED;
        return new RefreshFailure(kind, RunStatus.ERROR, sqlState, error);
    }

    /** The connection to PostgreSQL broke during the refresh. */
    public static RefreshFailure connectionLost(String message) {
        return new RefreshFailure(Kind.CONNECTION_LOST, RunStatus.ERROR, null,
                "connection to PostgreSQL lost (" + message + ")");
    }
}
