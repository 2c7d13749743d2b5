package dev.matviews.refresh;

import dev.matviews.registry.Registration;
import dev.matviews.runs.Run;

/** What one round trip learned about a registration, its view and its lock before a refresh. */
sealed interface Preflight {

    /** No registration with that id: nothing is recorded. */
    record Unknown() implements Preflight {
    }

    /** Registered, but the materialized view is not in the catalog any more. */
    record Gone(Registration registration) implements Preflight {
    }

    /** Another session holds the view's lock. */
    record Busy(Registration registration) implements Preflight {
    }

    /**
     * This session now holds the lock on {@code lockKey} and must release it.
     *
     * @param rejectedIndexes unique indexes CONCURRENTLY cannot use, with the reason, or null
     * @param run             the running run if the refresh can start; null if a prerequisite is missing
     */
    record Locked(Registration registration, int lockKey, boolean populated,
                  boolean hasUsableUniqueIndex, String rejectedIndexes, Run run) implements Preflight {
    }
}
