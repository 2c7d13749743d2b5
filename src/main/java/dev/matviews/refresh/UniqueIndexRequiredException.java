package dev.matviews.refresh;

/** CONCURRENTLY needs a unique index PostgreSQL can use; the detail says why none qualifies. */
public final class UniqueIndexRequiredException extends RefreshException {
    UniqueIndexRequiredException(String detail, RefreshFailure failure) {
        super(detail, failure);
    }
}
