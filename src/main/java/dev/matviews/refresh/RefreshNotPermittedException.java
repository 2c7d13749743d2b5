package dev.matviews.refresh;

/**
 * PostgreSQL refuses the service's role the refresh (SQLSTATE 42501): the detail names the
 * privilege it lacks. Recorded as an error run; only a grant can fix it, so jobs do not retry.
 */
public final class RefreshNotPermittedException extends RefreshException {
    /** insufficient_privilege */
    public static final String SQLSTATE = "42501";

    RefreshNotPermittedException(String detail, RefreshFailure failure) {
        super(detail, failure);
    }
}
