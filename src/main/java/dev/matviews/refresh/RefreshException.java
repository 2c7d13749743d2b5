package dev.matviews.refresh;

import dev.matviews.problem.MatviewsException;

/**
 * A refresh that failed, answered with the failure's one classification: the API maps the class
 * to a problem type, the job handler and the cascade read {@link #failure()}.
 */
public abstract sealed class RefreshException extends MatviewsException
        permits RefreshCancelledException, RefreshTimeoutException, UniqueIndexRequiredException, NotPopulatedException,
        RefreshNotPermittedException, RefreshFailedException {

    private final RefreshFailure failure;

    RefreshException(String detail, RefreshFailure failure) {
        super(detail);
        this.failure = failure;
    }

    public RefreshFailure failure() {
        return failure;
    }
}
