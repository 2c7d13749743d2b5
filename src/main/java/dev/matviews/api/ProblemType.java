package dev.matviews.api;

import dev.matviews.tracking.ChangeTrackingBusyException;
import dev.matviews.tracking.ChangeTrackingNotPermittedException;

import dev.matviews.auth.LoginFailedException;
import dev.matviews.auth.LoginThrottledException;
import dev.matviews.events.TooManyStreamsException;
import dev.matviews.problem.InvalidInputException;
import dev.matviews.registry.MatviewGoneException;
import dev.matviews.refresh.NotPopulatedException;
import dev.matviews.refresh.RefreshCancelledException;
import dev.matviews.refresh.RefreshCapacityException;
import dev.matviews.refresh.RefreshFailedException;
import dev.matviews.refresh.RefreshInProgressException;
import dev.matviews.refresh.RefreshNotPermittedException;
import dev.matviews.refresh.RefreshTimeoutException;
import dev.matviews.refresh.ShuttingDownException;
import dev.matviews.refresh.UniqueIndexRequiredException;
import dev.matviews.registry.AlreadyRegisteredException;
import dev.matviews.registry.NotAMatviewException;
import dev.matviews.registry.RegistrationNotFoundException;
import dev.matviews.runs.RunFinishedException;
import dev.matviews.runs.RunNotFoundException;
import dev.matviews.schedule.JobNotFoundException;
import dev.matviews.schedule.JobStateException;
import dev.matviews.schedule.ScheduleNameTakenException;
import dev.matviews.schedule.ScheduleNotFoundException;
import dev.matviews.cascade.CascadeFinishedException;
import dev.matviews.cascade.CascadeNotFoundException;

/** The one table from failure to HTTP answer. Slugs are part of the API: never rename one. */
enum ProblemType {
    INVALID_REQUEST(InvalidInputException.class, 400, "invalid-request", "Invalid request"),
    REGISTRATION_NOT_FOUND(RegistrationNotFoundException.class, 404, "registration-not-found", "Registration not found"),
    MATVIEW_NOT_FOUND(NotAMatviewException.class, 404, "matview-not-found", "Materialized view not found"),
    MATVIEW_GONE(MatviewGoneException.class, 404, "matview-gone", "Materialized view no longer exists"),
    ALREADY_REGISTERED(AlreadyRegisteredException.class, 409, "already-registered", "Already registered"),
    NOT_INCREMENTAL(dev.matviews.incremental.NotIncrementalException.class, 422, "not-incremental",
            "Definition cannot be maintained incrementally"),
    RELATION_EXISTS(dev.matviews.incremental.RelationExistsException.class, 409, "relation-exists",
            "A relation of that name exists"),
    REFRESH_IN_PROGRESS(RefreshInProgressException.class, 409, "refresh-in-progress", "Refresh already in progress"),
    UNIQUE_INDEX_REQUIRED(UniqueIndexRequiredException.class, 409, "unique-index-required",
            "Concurrent refresh needs a usable unique index"),
    NOT_POPULATED(NotPopulatedException.class, 409, "not-populated", "Concurrent refresh needs a populated view"),
    REFRESH_NOT_PERMITTED(RefreshNotPermittedException.class, 409, "refresh-not-permitted",
            "The service's database role may not refresh this view"),
    REFRESH_FAILED(RefreshFailedException.class, 500, "refresh-failed", "Refresh failed"),
    REFRESH_CANCELLED(RefreshCancelledException.class, 409, "refresh-cancelled", "Refresh cancelled"),
    REFRESH_TIMEOUT(RefreshTimeoutException.class, 504, "refresh-timeout", "Refresh timed out"),
    REFRESH_CAPACITY(RefreshCapacityException.class, 503, "refresh-capacity", "Too many refreshes in progress"),
    SHUTTING_DOWN(ShuttingDownException.class, 503, "shutting-down", "This instance is shutting down"),
    RUN_NOT_FOUND(RunNotFoundException.class, 404, "run-not-found", "Run not found"),
    RUN_FINISHED(RunFinishedException.class, 409, "run-finished", "Run already finished"),
    CASCADE_NOT_FOUND(CascadeNotFoundException.class, 404, "cascade-not-found", "Cascade not found"),
    CASCADE_FINISHED(CascadeFinishedException.class, 409, "cascade-finished", "Cascade already ended"),
    CHANGE_TRACKING_NOT_PERMITTED(ChangeTrackingNotPermittedException.class, 409, "change-tracking-not-permitted",
            "The service's database role may not track changes of a source table"),
    CHANGE_TRACKING_BUSY(ChangeTrackingBusyException.class, 503, "change-tracking-busy",
            "A source table is locked by its writers; try again"),
    SCHEDULE_NOT_FOUND(ScheduleNotFoundException.class, 404, "schedule-not-found", "Schedule not found"),
    SCHEDULE_NAME_TAKEN(ScheduleNameTakenException.class, 409, "schedule-name-taken", "Schedule name taken"),
    JOB_NOT_FOUND(JobNotFoundException.class, 404, "job-not-found", "Job not found"),
    JOB_STATE(JobStateException.class, 409, "job-state", "Job is not in a state that allows this"),
    LOGIN_FAILED(LoginFailedException.class, 401, "unauthorized", "Unauthorized"),
    LOGIN_THROTTLED(LoginThrottledException.class, 429, "too-many-login-attempts", "Too many login attempts"),
    TOO_MANY_STREAMS(TooManyStreamsException.class, 503, "too-many-streams", "Too many event streams"),
    /** A declared body over quarkus.http.limits.max-body-size (InputLimits). */
    PAYLOAD_TOO_LARGE(null, 413, "payload-too-large", "Payload too large"),
    /** A lost or refused database connection (restart, failover): retry. */
    DATABASE_UNAVAILABLE(null, 503, "database-unavailable", "Database unavailable"),
    /** Anything unforeseen: logged with its stack trace, answered without one. */
    INTERNAL(null, 500, "internal", "Internal error");

    private final Class<? extends RuntimeException> exception;
    private final int status;
    private final String slug;
    private final String title;

    ProblemType(Class<? extends RuntimeException> exception, int status, String slug, String title) {
        this.exception = exception;
        this.status = status;
        this.slug = slug;
        this.title = title;
    }

    static ProblemType of(Throwable e) {
        for (ProblemType type : values()) {
            if (type.exception != null && type.exception.isInstance(e)) {
                return type;
            }
        }
        return INTERNAL;
    }

    int status() {
        return status;
    }

    String slug() {
        return slug;
    }

    String title() {
        return title;
    }
}
