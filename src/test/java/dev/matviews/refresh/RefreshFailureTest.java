package dev.matviews.refresh;

import dev.matviews.refresh.RefreshFailure.Kind;
import dev.matviews.runs.RunStatus;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one classification of a failed REFRESH: plain inputs, no database. */
class RefreshFailureTest {

    private static final RefreshSettings LIMITS = new RefreshSettings(1000, 200, 0);

    private static RefreshFailure classify(String sqlState, boolean concurrent, String cancelReason, long elapsedMs) {
        return RefreshFailure.classify(sqlState, "message", concurrent, cancelReason, elapsedMs, LIMITS);
    }

    @Test
    void aCancelThisInstanceSentIsCancelledWithItsReasonWhateverTheTime() {
        RefreshFailure f = classify("57014", false, "the client went away", 5000);
        assertEquals(Kind.CANCELLED, f.kind());
        assertEquals(RunStatus.CANCELLED, f.status());
        assertEquals("refresh cancelled: the client went away; message (SQLSTATE 57014)", f.recorded());
        assertFalse(f.retryable());
    }

    @Test
    void aCancelNearStatementTimeoutIsATimeoutAndEarlierOneACancel() {
        RefreshFailure late = classify("57014", false, null, 980);
        assertEquals(Kind.STATEMENT_TIMEOUT, late.kind());
        assertEquals(RunStatus.TIMEOUT, late.status());
        assertEquals("statement_timeout of 1000 ms reached; message (SQLSTATE 57014)", late.recorded());
        assertTrue(late.retryable());
        RefreshFailure early = classify("57014", false, null, 900);
        assertEquals(Kind.CANCELLED, early.kind());
        assertEquals("refresh cancelled; message (SQLSTATE 57014)", early.recorded());
        // no statement_timeout at all: a cancel from elsewhere
        assertEquals(Kind.CANCELLED, RefreshFailure.classify("57014", "m", false, null, 10_000_000,
                new RefreshSettings(0, 0, 0)).kind());
    }

    @Test
    void lockNotAvailableIsALockTimeout() {
        RefreshFailure f = classify("55P03", false, null, 200);
        assertEquals(Kind.LOCK_TIMEOUT, f.kind());
        assertEquals(RunStatus.TIMEOUT, f.status());
        assertEquals("lock_timeout of 200 ms reached; message (SQLSTATE 55P03)", f.recorded());
        assertTrue(f.retryable());
    }

    @Test
    void concurrentPrerequisitesArePermanentOnlyForConcurrentRefreshes() {
        assertEquals(Kind.UNIQUE_INDEX_REQUIRED, classify("55000", true, null, 1).kind());
        assertEquals(Kind.NOT_POPULATED, classify("0A000", true, null, 1).kind());
        assertFalse(classify("55000", true, null, 1).retryable());
        assertFalse(classify("0A000", true, null, 1).retryable());
        // the same states from a standard refresh are some other failure, which may pass later
        assertEquals(Kind.FAILED, classify("55000", false, null, 1).kind());
        assertTrue(classify("55000", false, null, 1).retryable());
    }

    @Test
    void privilegesAndVanishedObjectsAreNotRetried() {
        assertEquals(Kind.NOT_PERMITTED, classify("42501", false, null, 1).kind());
        assertFalse(classify("42501", false, null, 1).retryable());
        assertEquals(Kind.GONE, classify("42P01", false, null, 1).kind());
        assertFalse(classify("42P01", false, null, 1).retryable());
        // any other syntax or access rule violation cannot pass on a retry either
        RefreshFailure undefinedFunction = classify("42883", false, null, 1);
        assertEquals(Kind.FAILED, undefinedFunction.kind());
        assertFalse(undefinedFunction.retryable());
    }

    @Test
    void otherErrorsAndALostConnectionAreRetried() {
        RefreshFailure divisionByZero = classify("22012", false, null, 1);
        assertEquals(Kind.FAILED, divisionByZero.kind());
        assertEquals(RunStatus.ERROR, divisionByZero.status());
        assertEquals("22012", divisionByZero.sqlState());
        assertTrue(divisionByZero.retryable());
        assertTrue(classify("40P01", false, null, 1).retryable(), "deadlock");
        RefreshFailure lost = RefreshFailure.connectionLost("Connection reset");
        assertEquals(Kind.CONNECTION_LOST, lost.kind());
        assertEquals(RunStatus.ERROR, lost.status());
        assertEquals(null, lost.sqlState());
        assertTrue(lost.retryable());
    }
}
