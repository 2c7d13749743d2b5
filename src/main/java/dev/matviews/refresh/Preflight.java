package dev.matviews.refresh;

import dev.matviews.registry.Identifiers;
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

    /**
     * skipUnchanged, and no source changed since the start of run {@code keptRunId}: a skipped run
     * is recorded, no lock was taken.
     */
    record Unchanged(Registration registration, Run run, java.util.UUID keptRunId) implements Preflight {
    }

    /** Another session holds the view's lock. */
    record Busy(Registration registration) implements Preflight {
    }

    /** This session now holds the view's lock on {@code lockKey} and must release it. */
    sealed interface Locked extends Preflight {
        Registration registration();

        int lockKey();
    }

    /**
     * The refresh can start: its run is recorded as running. {@code tracked}: it records the
     * snapshot a later skip compares with (skipUnchanged).
     */
    record Started(Registration registration, int lockKey, Run run, boolean tracked) implements Locked {
    }

    /** The service's role may not refresh the view; nothing started. */
    record Refused(Registration registration, int lockKey, Refusal refusal) implements Locked {
    }

    /**
     * A prerequisite of CONCURRENTLY is missing (only that mode has any); nothing started.
     *
     * @param rejectedIndexes unique indexes CONCURRENTLY cannot use, with the reason, or null if it has none
     */
    record Unready(Registration registration, int lockKey, boolean populated, String rejectedIndexes)
            implements Locked {
    }

    /**
     * The service's role may not refresh the view.
     *
     * @param missing USAGE (on the view's schema), MAINTAIN (PostgreSQL 17+) or OWNER (before 17)
     */
    record Refusal(String role, String missing, String owner) {

        String detail(Registration r) {
            String view = r.qualifiedName();
            String need = switch (missing) {
                case "USAGE" -> "the USAGE privilege on schema " + r.schemaName();
                case "MAINTAIN" -> "the MAINTAIN privilege on " + view + " (GRANT MAINTAIN ON "
                        + Identifiers.qualified(r.schemaName(), r.viewName()) + " TO " + role
                        + ", or membership in pg_maintain or in its owner role " + owner + ")";
                default -> "to own " + view + " (be its owner " + owner + " or a member of that role: GRANT " + owner
                        + " TO " + role + ")";
            };
            return "role " + role + " may not refresh materialized view " + view + ": it needs " + need
                    + " (SQLSTATE 42501)";
        }
    }
}
