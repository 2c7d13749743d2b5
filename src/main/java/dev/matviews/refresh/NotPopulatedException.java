package dev.matviews.refresh;

/** CONCURRENTLY cannot run on a view that was never populated (WITH NO DATA). */
public final class NotPopulatedException extends RefreshException {
    NotPopulatedException(String detail, RefreshFailure failure) {
        super(detail, failure);
    }
}
