package dev.matviews.schedule;

import java.util.UUID;

/** How an attempt at a job ended, as its handler judged it. */
public sealed interface JobOutcome {

    UUID runId();

    /** Done; {@code note} says anything worth knowing (e.g. skipped because the view was busy). */
    record Completed(UUID runId, String note) implements JobOutcome {
    }

    /** Might work later: retried with backoff while attempts remain. */
    record Transient(String error, UUID runId) implements JobOutcome {
    }

    /** Can never work as asked: failed at once, no retries. */
    record Permanent(String error, UUID runId) implements JobOutcome {
    }

    /** Stopped on request. */
    record Cancelled(String error, UUID runId) implements JobOutcome {
    }
}
