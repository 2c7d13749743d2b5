package dev.matviews.refresh;

/** statement_timeout or lock_timeout ended the refresh; recorded as timeout. */
public final class RefreshTimeoutException extends RefreshException {
    RefreshTimeoutException(String detail, RefreshFailure failure) {
        super(detail, failure);
    }
}
