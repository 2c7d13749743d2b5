package dev.matviews.refresh;

/** The refresh was cancelled (through the API, or by its client going away); recorded as cancelled. */
public final class RefreshCancelledException extends RefreshException {
    RefreshCancelledException(String detail, RefreshFailure failure) {
        super(detail, failure);
    }
}
