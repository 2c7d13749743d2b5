package dev.matviews.schedule;

import dev.matviews.problem.MatviewsException;
import dev.matviews.refresh.RefreshCapacityException;
import dev.matviews.refresh.RefreshFailure;
import dev.matviews.refresh.RefreshInProgressException;
import dev.matviews.refresh.RefreshOutcome;
import dev.matviews.refresh.ShuttingDownException;
import dev.matviews.registry.RegistrationNotFoundException;
import dev.matviews.runs.RunStatus;
import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** The scheduled job's outcome for each refresh outcome: what is retried, what is not, what was cancelled. */
class RefreshJobOutcomeTest {

    private static final UUID RUN = UUID.randomUUID();

    private static MatviewsException answer(String detail) {
        return new MatviewsException(detail) {
        };
    }

    private static JobOutcome failed(RefreshFailure.Kind kind, String sqlState) {
        RunStatus status = kind == RefreshFailure.Kind.CANCELLED ? RunStatus.CANCELLED : RunStatus.ERROR;
        return MatviewRefreshJobHandler.outcome(new RefreshOutcome.Failed(
                new RefreshFailure(kind, status, sqlState, "x"), RUN, answer("refresh failed")));
    }

    @Test
    void aBusyViewIsASkipTheJobCompletesWith() {
        JobOutcome o = MatviewRefreshJobHandler.outcome(new RefreshOutcome.Busy("public.v", RUN,
                new RefreshInProgressException("public.v")));
        JobOutcome.Completed done = assertInstanceOf(JobOutcome.Completed.class, o);
        assertEquals(RUN, done.runId());
        assertEquals("skipped: a refresh of public.v is already in progress", done.note());
    }

    @Test
    void notStartedIsRetriedOnlyWhenTheInstanceWasFull() {
        assertInstanceOf(JobOutcome.Transient.class, MatviewRefreshJobHandler.outcome(new RefreshOutcome.NotStarted(
                RefreshOutcome.Reason.CAPACITY, new RefreshCapacityException(4))));
        assertInstanceOf(JobOutcome.Cancelled.class, MatviewRefreshJobHandler.outcome(new RefreshOutcome.NotStarted(
                RefreshOutcome.Reason.SHUTTING_DOWN, new ShuttingDownException("a"))));
        assertInstanceOf(JobOutcome.Cancelled.class, MatviewRefreshJobHandler.outcome(new RefreshOutcome.NotStarted(
                RefreshOutcome.Reason.UNREGISTERED, new RegistrationNotFoundException(UUID.randomUUID()))));
    }

    @Test
    void aFailureIsRetriedAsItsClassificationSays() {
        assertInstanceOf(JobOutcome.Transient.class, failed(RefreshFailure.Kind.STATEMENT_TIMEOUT, "57014"));
        assertInstanceOf(JobOutcome.Transient.class, failed(RefreshFailure.Kind.CONNECTION_LOST, null));
        assertInstanceOf(JobOutcome.Transient.class, failed(RefreshFailure.Kind.FAILED, "22012"));
        assertInstanceOf(JobOutcome.Permanent.class, failed(RefreshFailure.Kind.FAILED, "42P01"));
        assertInstanceOf(JobOutcome.Permanent.class, failed(RefreshFailure.Kind.UNIQUE_INDEX_REQUIRED, null));
        assertInstanceOf(JobOutcome.Permanent.class, failed(RefreshFailure.Kind.GONE, null));
        JobOutcome.Cancelled cancelled = assertInstanceOf(JobOutcome.Cancelled.class,
                failed(RefreshFailure.Kind.CANCELLED, "57014"));
        assertEquals(RUN, cancelled.runId());
    }
}
